# Imitates nixos/modules/virtualisation/vmware-image.nix (NixOS 25.05), the
# VMware image module: a raw make-disk-image disk with the EFI layout (GPT,
# ESP) converted to VMDK. It imports the image.* options (not
# disk-size-option.nix: its size is vmware.baseImageSize) and declares
# vmware.baseImageSize ("auto" or MiB), vmware.vmDerivationName (the name of
# the image's derivation), vmware.vmSubformat (qemu-img's VMDK subformat; the
# flat and 2 GB-extent ones write extra extent files) and vmware.vmCompat6
# (VMDK version 6 instead of 4). Renamed in 25.05:
# virtualisation.vmware.vmFileName to image.fileName (upstream writes the old
# path with a `virtualisation' prefix that the 24.11 option vmware.vmFileName
# did not have; imitated as written).
# Set as upstream (plain): the tag `vmware', image.extension "vmdk", the root
# by label `nixos' (ext4, grown on boot), the ESP on /boot, the partition grown
# on boot, GRUB as removable EFI media (device "nodev") and the VMware guest
# support.
# Left out: system.build.vmwareImage / system.build.image (make-disk-image +
# qemu-img); nixos-generate writes the image itself.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
in
{
  imports = [
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "virtualisation" "vmware" "vmFileName" ]; to = [ "image" "fileName" ]; })
  ];

  options.vmware = {
    baseImageSize = mkOption {
      type = types.either (types.enum [ "auto" ]) types.int;
      default = "auto";
      example = 2048;
      description = "Size of the VMware base image in MiB, or \"auto\".";
    };
    vmDerivationName = mkOption {
      type = types.str;
      default = "nixos-vmware-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
      description = "Name of the derivation that builds the VMware image.";
    };
    vmSubformat = mkOption {
      type = types.enum [ "monolithicSparse" "monolithicFlat" "twoGbMaxExtentSparse" "twoGbMaxExtentFlat" "streamOptimized" ];
      default = "monolithicSparse";
      description = "VMDK subformat of the image.";
    };
    vmCompat6 = mkOption {
      type = types.bool;
      default = false;
      example = true;
      description = "Whether to write a version 6 VMDK (instead of version 4).";
    };
  };

  config = {
    system.nixos.tags = [ "vmware" ];
    image.extension = "vmdk";

    fileSystems."/" = {
      device = "/dev/disk/by-label/nixos";
      autoResize = true;
      fsType = "ext4";
    };
    fileSystems."/boot" = {
      device = "/dev/disk/by-label/ESP";
      fsType = "vfat";
    };

    boot.growPartition = true;
    boot.loader.grub = {
      device = "nodev";
      efiSupport = true;
      efiInstallAsRemovable = true;
    };

    virtualisation.vmware.guest.enable = true;
  };
}
