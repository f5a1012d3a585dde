# Imitates nixos/modules/system/boot/loader/systemd-boot/systemd-boot.nix: the
# options with NixOS's names, types and defaults; GRUB turned off at mkDefault
# priority; an installer that names the systemd whose bootctl NixOS would run
# (bootctl installs ${systemd}/lib/systemd/boot/efi/systemd-boot<efiArch>.efi).
# The stand-in's installer installs nothing.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.boot.loader.systemd-boot;
in
{
  options.boot.loader.systemd-boot = {
    enable = mkOption { type = types.bool; default = false; description = "Whether to enable the systemd-boot (formerly gummiboot) EFI boot manager."; };
    configurationLimit = mkOption { type = types.nullOr types.int; default = null; description = "Maximum number of latest generations in the boot menu."; };
    consoleMode = mkOption { type = types.enum [ "0" "1" "2" "5" "auto" "max" "keep" ]; default = "keep"; description = "The resolution of the console."; };
    editor = mkOption { type = types.bool; default = true; description = "Whether to allow editing the kernel command line before boot."; };
    sortKey = mkOption { type = types.str; default = "nixos"; description = "The sort key of NixOS's boot entries."; };
  };

  config = lib.mkIf cfg.enable {
    boot.loader.grub.enable = lib.mkDefault false;
    system.build.installBootLoader = pkgs.writeScript "install-systemd-boot.sh" ''
      #!${pkgs.busybox}/bin/sh
      # The stand-in installs nothing; NixOS runs its systemd-boot builder with bootctl.
      echo "install-systemd-boot: the example system does not install boot loaders (systemd ${config.systemd.package})" >&2
      exit 1
    '';
  };
}
