# Imitates nixos/modules/system/boot/loader/grub/grub.nix (NixOS 24.11 to
# unstable): the options an image writer and common configurations touch, with
# NixOS's names, types and defaults, and the way NixOS picks its GRUB builds:
# `realGrub` is grub2 (from pkgsi686Linux with forcei686, overridden with ZFS
# support with zfsSupport), the BIOS build is realGrub unless the devices are
# exactly [ "nodev" ] (exposed as system.build.grub), and the EFI build is
# realGrub.override { efiSupport = true; } (exposed nowhere but the installer's
# configuration). The installer here only names both builds, so they belong to
# the system's closure as they do in NixOS; it installs nothing.
# Like NixOS, it writes configurationName to the toplevel's configuration-name
# (NixOS through system.systemBuilderCommands, the stand-in through
# extraSystemBuilderCmds), the menu name install-grub gives a specialisation.
# Differences: no NixOS artwork in the stand-in, so splashImage defaults to null.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.boot.loader.grub;
  efi = config.boot.loader.efi;

  grubPkgs = if cfg.forcei686 then pkgs.pkgsi686Linux else pkgs;
  realGrub =
    if cfg.zfsSupport then grubPkgs.grub2.override { zfsSupport = true; zfs = cfg.zfsPackage; }
    else grubPkgs.grub2;
  grub = if cfg.devices == [ "nodev" ] then null else realGrub;
  grubEfi = if cfg.efiSupport then realGrub.override { efiSupport = cfg.efiSupport; } else null;
  orEmpty = x: if x == null then "" else "${x}";

  installerConfig = pkgs.writeText "grub-config.json" (builtins.toJSON {
    grub = orEmpty grub;
    grubEfi = orEmpty grubEfi;
    inherit (cfg) devices efiSupport efiInstallAsRemovable forceInstall fsIdentifier;
    inherit (efi) canTouchEfiVariables efiSysMountPoint;
    timeout = if config.boot.loader.timeout == null then -1 else config.boot.loader.timeout;
  });
in
{
  options.boot.loader.grub = {
    enable = mkOption {
      type = types.bool;
      default = !config.boot.isContainer;
      description = "Whether to enable the GNU GRUB boot loader.";
    };
    device = mkOption {
      type = types.str;
      default = "";
      description = "The device GRUB is installed on; \"nodev\" generates the menu without installing GRUB.";
    };
    devices = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "The devices GRUB is installed on (device is added to them).";
    };
    mirroredBoots = mkOption {
      type = types.listOf types.anything;
      default = [ ];
      description = "Boot paths ({ path; devices; efiSysMountPoint; efiBootloaderId; }) GRUB is installed for.";
    };
    efiSupport = mkOption { type = types.bool; default = false; description = "Whether GRUB should be built with EFI support."; };
    efiInstallAsRemovable = mkOption { type = types.bool; default = false; description = "Whether to install GRUB to the removable media path (EFI/BOOT/BOOT<arch>.EFI)."; };
    forcei686 = mkOption { type = types.bool; default = false; description = "Whether to force the use of an ia32 GRUB (from pkgsi686Linux)."; };
    zfsSupport = mkOption { type = types.bool; default = false; description = "Whether GRUB should be built against libzfs."; };
    zfsPackage = mkOption { type = types.package; internal = true; default = pkgs.zfs; description = "The ZFS package GRUB is built against."; };
    forceInstall = mkOption { type = types.bool; default = false; description = "Whether to install GRUB even where it is unsafe (blocklists)."; };
    fsIdentifier = mkOption { type = types.enum [ "uuid" "label" "provided" ]; default = "uuid"; description = "How grub.cfg identifies filesystems."; };
    splashImage = mkOption { type = types.nullOr types.path; description = "Background image of the menu, or null for text mode."; };
    copyKernels = mkOption { type = types.bool; default = false; description = "Whether kernels and initrds are copied to /boot."; };
    extraConfig = mkOption { type = types.lines; default = ""; description = "Commands added to grub.cfg before the entries."; };
    extraEntries = mkOption { type = types.lines; default = ""; description = "Additional menu entries."; };
    extraInstallCommands = mkOption { type = types.lines; default = ""; description = "Commands run after installing GRUB."; };
    configurationName = mkOption { type = types.str; default = ""; example = "Stable 2.6.21"; description = "Menu name of this configuration when it is a specialisation (empty: NixOS's generated name)."; };
    configurationLimit = mkOption { type = types.int; default = 100; description = "Maximum number of configurations in the menu."; };
  };

  config = lib.mkMerge [
    { boot.loader.grub.splashImage = lib.mkDefault null; }
    (lib.mkIf cfg.enable {
      boot.loader.grub.devices = lib.mkIf (cfg.device != "") [ cfg.device ];
      boot.loader.grub.mirroredBoots = lib.mkIf (cfg.devices != [ ]) [
        { path = "/boot"; inherit (cfg) devices; inherit (efi) efiSysMountPoint; }
      ];
      system.build.grub = grub;
      system.extraSystemBuilderCmds = ''
        printf '%s' ${lib.escapeShellArg cfg.configurationName} > $out/configuration-name
      '';
      system.build.installBootLoader = pkgs.writeScript "install-grub.sh" ''
        #!${pkgs.busybox}/bin/sh
        # The stand-in installs nothing; NixOS runs install-grub.pl with this configuration.
        echo "install-grub: the example system does not install boot loaders (configuration ${installerConfig})" >&2
        exit 1
      '';
      assertions = [
        {
          assertion = cfg.mirroredBoots != [ ];
          message = "You must set the option ‘boot.loader.grub.devices’ or 'boot.loader.grub.mirroredBoots' to make the system bootable.";
        }
        {
          assertion = cfg.efiInstallAsRemovable -> cfg.efiSupport;
          message = "If you wish to to use boot.loader.grub.efiInstallAsRemovable, then turn on boot.loader.grub.efiSupport";
        }
        {
          assertion = cfg.efiInstallAsRemovable -> !efi.canTouchEfiVariables;
          message = "If you wish to to use boot.loader.grub.efiInstallAsRemovable, then turn off boot.loader.efi.canTouchEfiVariables";
        }
      ];
    })
  ];
}
