# Imitates nixos/modules/virtualisation/virtualbox-image.nix (NixOS 25.05),
# the VirtualBox image module: a raw make-disk-image disk (legacy MBR)
# converted to VDI, made into a VM with VBoxManage and exported as an OVA. It
# imports virtualisation.diskSize and the image.* options and declares
# virtualbox.*: baseImageFreeSpace (free MiB of an "auto" disk), memorySize,
# vmDerivationName, vmName (the VM's name inside the OVA), params
# (VBoxManage modifyvm flags), exportParams (VBoxManage export flags),
# extraDisk (a second, ext4 disk, also mounted), postExportCommands (shell run
# on the OVA, $fn) and storageController (VBoxManage storagectl flags).
# Renamed: virtualbox.baseImageSize to virtualisation.diskSize (24.11) and, in
# 25.05, virtualisation.virtualbox.vmFileName to image.fileName (upstream
# writes the old path with a `virtualisation' prefix that the 24.11 option
# virtualbox.vmFileName did not have; imitated as written).
# Set as upstream: the disk size 51200 MiB just above the option default
# (mkOverride 1490, so that a user's mkDefault wins), the default params (each
# mkDefault; pae on i686 only), the tag `virtualbox', image.extension "ova",
# the root by label `nixos' (ext4, grown on boot), the extra disk's mount by
# its label, the partition grown on boot, GRUB on /dev/sda and the VirtualBox
# guest additions.
# Left out: the 2048 MiB swap file /var/swap (swapDevices; the stand-in
# declares no swap options), and system.build.virtualBoxOVA /
# system.build.image (make-disk-image + VBoxManage); nixos-generate writes the
# image itself.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.virtualbox;
  flagValue = types.oneOf [ types.str types.int types.bool (types.listOf types.str) ];
in
{
  imports = [
    ./disk-size-option.nix
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "virtualbox" "baseImageSize" ]; to = [ "virtualisation" "diskSize" ]; })
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "virtualisation" "virtualbox" "vmFileName" ]; to = [ "image" "fileName" ]; })
  ];

  options.virtualbox = {
    baseImageFreeSpace = mkOption {
      type = types.int;
      default = 30 * 1024;
      description = "Free space, in MiB, of the base image (when its size is \"auto\").";
    };
    memorySize = mkOption {
      type = types.int;
      default = 1536;
      description = "Memory of the appliance in MiB.";
    };
    vmDerivationName = mkOption {
      type = types.str;
      default = "nixos-ova-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
      description = "Name of the derivation that builds the OVA.";
    };
    vmName = mkOption {
      type = types.str;
      default = "${config.system.nixos.distroName} ${config.system.nixos.label} (${pkgs.stdenv.hostPlatform.system})";
      description = "Name of the VM in the appliance.";
    };
    params = mkOption {
      type = types.attrsOf flagValue;
      example = { audio = "alsa"; rtcuseutc = "on"; usb = "off"; };
      description = "Settings of the VM, as `VBoxManage modifyvm' flags (see `VBoxManage modifyvm --help').";
    };
    exportParams = mkOption {
      type = types.listOf flagValue;
      default = [ ];
      example = [ "--vsys" "0" "--vendor" "ACME Inc." ];
      description = "Arguments added to `VBoxManage export' (see `VBoxManage export --help').";
    };
    extraDisk = mkOption {
      type = types.nullOr (types.submodule {
        options = {
          size = mkOption {
            type = types.int;
            description = "Size of the disk in MiB.";
          };
          label = mkOption {
            type = types.str;
            default = "vm-extra-storage";
            description = "Label of the disk's ext4 partition.";
          };
          mountPoint = mkOption {
            type = types.str;
            description = "Where the disk is mounted.";
          };
        };
      });
      default = null;
      example = { label = "storage"; mountPoint = "/home/demo/storage"; size = 100 * 1024; };
      description = "A second disk for the appliance: one ext4 partition in its own disk file, mounted in the system.";
    };
    postExportCommands = mkOption {
      type = types.lines;
      default = "";
      description = "Shell commands run after the export; $fn is the OVA.";
    };
    storageController = mkOption {
      type = types.attrsOf flagValue;
      default = { name = "SATA"; add = "sata"; portcount = 4; bootable = "on"; hostiocache = "on"; };
      example = { name = "SCSI"; add = "scsi"; portcount = 16; bootable = "on"; hostiocache = "on"; };
      description = "The disk controller, as `VBoxManage storagectl' flags; `name' is required (see `VBoxManage storagectl --help').";
    };
  };

  config = {
    virtualisation.diskSize = lib.mkOverride 1490 (50 * 1024);

    virtualbox.params = lib.mkMerge [
      (lib.mapAttrs (_: lib.mkDefault) {
        acpi = "on";
        vram = 32;
        nictype1 = "virtio";
        nic1 = "nat";
        audiocontroller = "ac97";
        audio = "alsa";
        audioout = "on";
        graphicscontroller = "vmsvga";
        rtcuseutc = "on";
        usb = "on";
        usbehci = "on";
        mouse = "usbtablet";
      })
      (lib.mkIf (pkgs.stdenv.hostPlatform.system == "i686-linux") { pae = "on"; })
    ];

    system.nixos.tags = [ "virtualbox" ];
    image.extension = "ova";

    fileSystems = lib.mkMerge [
      {
        "/" = {
          device = "/dev/disk/by-label/nixos";
          autoResize = true;
          fsType = "ext4";
        };
      }
      (lib.mkIf (cfg.extraDisk != null) {
        ${cfg.extraDisk.mountPoint} = {
          device = "/dev/disk/by-label/${cfg.extraDisk.label}";
          autoResize = true;
          fsType = "ext4";
        };
      })
    ];

    boot.growPartition = true;
    boot.loader.grub.device = "/dev/sda";

    virtualisation.virtualbox.guest.enable = true;
  };
}
