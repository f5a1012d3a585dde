# Imitates nixos/modules/system/boot/kernel.nix: the kernel package set, kernel
# parameters and the initrd's module lists (the stand-in's kernel is Debian's).
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.boot;
in
{
  options.boot = {
    kernelPackages = mkOption {
      type = types.raw;
      default = pkgs.linuxPackages;
      description = "The kernel package set; its `kernel` is booted. pkgs.linuxPackages_full has every module.";
    };
    kernelParams = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Kernel command line parameters (init= is added by the boot loader).";
    };
    consoleLogLevel = mkOption {
      type = types.int;
      default = 4;
      description = "The kernel console log level (loglevel=).";
    };
    kernelModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Modules loaded in stage 2 (ignored by the example system).";
    };
    extraModulePackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "Ignored by the stand-in.";
    };
    initrd.availableKernelModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Kernel modules put into the initrd (the example's stage 1 loads them all).";
    };
    initrd.kernelModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Kernel modules put into the initrd and always loaded.";
    };
    initrd.includeDefaultModules = mkOption {
      type = types.bool;
      default = true;
      description = "Whether to include the storage, virtio and filesystem modules a VM needs to mount its root.";
    };
  };

  config = {
    boot.kernelParams = [ "loglevel=${toString cfg.consoleLogLevel}" ];
    boot.initrd.availableKernelModules = lib.mkIf cfg.initrd.includeDefaultModules ([
      # disks: virtio, SCSI, SATA/IDE, CD-ROM, loop
      "virtio_pci" "virtio_blk" "virtio_scsi" "sd_mod" "sr_mod" "ahci" "ata_piix" "loop"
      # USB host controllers (NixOS's defaults list them, for USB keyboards; with
      # iso-image.nix's uas they also reach a USB stick)
      "ehci_pci" "ohci_pci" "xhci_pci"
      # filesystems: the root and the ESP (with the codepage/charset vfat
      # mounts by default on Debian: cp437 and ascii), ISO media
      "ext4" "vfat" "nls_cp437" "nls_ascii" "nls_iso8859_1" "nls_utf8"
      "isofs" "squashfs" "overlay"
      # ext4 checksums (soft dependency, named explicitly)
      "crc32c_generic"
    ]
    # Debian's arm64 kernel has no uhci_hcd (UHCI is a PC controller).
    ++ lib.optional pkgs.stdenv.hostPlatform.isx86 "uhci_hcd");
    system.build.kernel = cfg.kernelPackages.kernel;
    # As NixOS: the device trees linked from the toplevel.
    system.extraSystemBuilderCmds = lib.optionalString (config.hardware.deviceTree.enable && config.hardware.deviceTree.package != null) ''
      ln -s ${config.hardware.deviceTree.package} $out/dtbs
    '';
  };
}
