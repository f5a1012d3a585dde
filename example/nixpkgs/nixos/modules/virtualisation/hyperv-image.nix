# Imitates nixos/modules/virtualisation/hyperv-image.nix (NixOS 25.05), the
# Hyper-V image module: a raw make-disk-image disk with the EFI layout (GPT,
# ESP) converted to a dynamic VHDX. It imports virtualisation.diskSize and
# the image.* options and declares hyperv.vmDerivationName (the name of the
# image's derivation). Renamed: hyperv.baseImageSize to virtualisation.diskSize
# (24.11) and, in 25.05, virtualisation.hyperv.vmFileName to image.fileName
# (upstream writes the old path with a `virtualisation' prefix that the
# 24.11 option hyperv.vmFileName did not have; imitated as written).
# Set as upstream (plain unless said): the disk size 4096 MiB just above the
# option default (mkOverride 1490, so that a user's mkDefault wins), the tag
# `hyperv', image.extension "vhdx", the root by label `nixos' (ext4, grown on
# boot), the ESP on /boot, the partition grown on boot, GRUB as removable EFI
# media (device "nodev") and the Hyper-V guest support.
# Left out: system.build.hypervImage / system.build.image (make-disk-image +
# qemu-img); nixos-generate writes the image itself.
{ config, lib, pkgs, ... }:
{
  imports = [
    ./disk-size-option.nix
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "hyperv" "baseImageSize" ]; to = [ "virtualisation" "diskSize" ]; })
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "virtualisation" "hyperv" "vmFileName" ]; to = [ "image" "fileName" ]; })
  ];

  options.hyperv.vmDerivationName = lib.mkOption {
    type = lib.types.str;
    default = "nixos-hyperv-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
    description = "Name of the derivation that builds the Hyper-V image.";
  };

  config = {
    virtualisation.diskSize = lib.mkOverride 1490 (4 * 1024);

    system.nixos.tags = [ "hyperv" ];
    image.extension = "vhdx";

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

    virtualisation.hypervGuest.enable = true;
  };
}
