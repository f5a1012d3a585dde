# Imitates nixos/modules/system/boot/loader/generic-extlinux-compatible/default.nix
# (NixOS 25.05): its options with NixOS's names, types and defaults, the loader id, and
# populateCmd, the builder command sd-image*.nix run to fill /boot. The stand-in's builder
# installs nothing (NixOS's extlinux-conf-builder.sh writes extlinux/extlinux.conf and
# copies the boot files to nixos/): nixos-generate writes /boot from the bootspec instead.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.boot.loader.generic-extlinux-compatible;
  timeoutStr = if config.boot.loader.timeout == null then "-1" else toString config.boot.loader.timeout;
  builderArgs = "-g ${toString cfg.configurationLimit} -t ${timeoutStr}"
    + lib.optionalString (config.hardware.deviceTree.name != null) " -n ${config.hardware.deviceTree.name}"
    + lib.optionalString (!cfg.useGenerationDeviceTree) " -r";
  builder = pkgs.buildPackages.writeScript "extlinux-conf-builder.sh" ''
    #!${pkgs.buildPackages.busybox}/bin/sh
    # The stand-in's builder writes nothing; NixOS's writes extlinux.conf and nixos/.
    echo "extlinux-conf-builder: the example system does not install boot loaders ($*)" >&2
    exit 1
  '';
in
{
  options.boot.loader.generic-extlinux-compatible = {
    enable = mkOption { type = types.bool; default = false; description = "Whether to generate an extlinux-compatible configuration file under /boot/extlinux.conf (for U-Boot's distro boot)."; };
    useGenerationDeviceTree = mkOption { type = types.bool; default = true; description = "Whether to name the generation's device trees (FDTDIR, or FDT with hardware.deviceTree.name) in its entries."; };
    configurationLimit = mkOption { type = types.int; default = 20; description = "Maximum number of configurations in the boot menu."; };
    mirroredBoots = mkOption {
      type = types.listOf (types.submodule { options.path = mkOption { type = types.str; description = "Where the boot files go."; }; });
      default = [ { path = "/boot"; } ];
      description = "Directories the configuration is written to.";
    };
    populateCmd = mkOption {
      type = types.str;
      readOnly = true;
      description = "The builder command with its arguments, for populating a /boot directory (append -c <toplevel> -d <directory>).";
    };
  };

  config = lib.mkMerge [
    { boot.loader.generic-extlinux-compatible.populateCmd = "${builder} ${builderArgs}"; }
    (lib.mkIf cfg.enable {
      assertions = [ { assertion = cfg.mirroredBoots != [ ]; message = "You must not remove all elements from option 'boot.loader.generic-extlinux-compatible.mirroredBoots', otherwise the system will not be bootable."; } ];
      system.build.installBootLoader = pkgs.writeScript "install-extlinux-conf.sh" ''
        #!${pkgs.busybox}/bin/sh
        # NixOS runs the builder for each of mirroredBoots here.
        exec ${builder} ${builderArgs} -c "$@"
      '';
      system.boot.loader.id = "generic-extlinux-compatible";
    })
  ];
}
