# Imitates nixos/modules/virtualisation/azure-image.nix (NixOS 25.05), the
# Azure image module. It imports ./azure-common.nix, virtualisation.diskSize
# (default "auto"; azureImage.diskSize is renamed to it since 24.11) and the
# image.* options, and declares virtualisation.azureImage:
#   vmGeneration  "v1" (BIOS, MBR) or "v2" (UEFI, GPT with an ESP)
#   bootSize      ESP size in MiB (v2 only)
#   contents      extra files put into the image
#   label         the root filesystem's label
# Set as upstream (plain): image.extension "vhd" and the tag `azure' (the VHD
# is fixed-size, written from a raw make-disk-image), the root by label (with
# the label attribute too), the ESP on /boot for v2, the partition grown on
# boot, GRUB on /dev/sda for v1 or as removable EFI media for v2, without a
# splash image, and on serial port 0 for v1.
# Left out: boot.loader.grub.font = null (the stand-in's GRUB module does not
# declare `font'; it has no font to leave out), and
# system.build.azureImage / system.build.image (make-disk-image + qemu-img);
# nixos-generate writes the image itself.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.virtualisation.azureImage;
  efi = cfg.vmGeneration == "v2";
in
{
  imports = [
    ./azure-common.nix
    ./disk-size-option.nix
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "virtualisation" "azureImage" "diskSize" ]; to = [ "virtualisation" "diskSize" ]; })
  ];

  options.virtualisation.azureImage = {
    bootSize = mkOption {
      type = types.int;
      default = 256;
      description = "Size of the EFI system partition in MiB (used with vmGeneration \"v2\" only).";
    };
    contents = mkOption {
      type = types.listOf types.attrs;
      default = [ ];
      description = "Extra files and directories put into the image.";
    };
    label = mkOption {
      type = types.str;
      default = "nixos";
      description = "Label of the root filesystem.";
    };
    vmGeneration = mkOption {
      type = types.enum [ "v1" "v2" ];
      default = "v1";
      description = "Hyper-V generation of the Azure VM: \"v1\" boots with BIOS from an MBR disk, \"v2\" with UEFI from a GPT disk (create it with secure boot off).";
    };
  };

  config = {
    image.extension = "vhd";
    system.nixos.tags = [ "azure" ];

    boot.growPartition = true;
    boot.loader.grub = {
      efiSupport = efi;
      device = if efi then "nodev" else "/dev/sda";
      efiInstallAsRemovable = efi;
      splashImage = null;
      # Generation 1 VMs have a serial port (Azure's serial console); generation 2 uses the EFI console.
      extraConfig = lib.mkIf (!efi) ''
        serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
        terminal_input --append serial
        terminal_output --append serial
      '';
    };

    fileSystems."/" = {
      device = "/dev/disk/by-label/${cfg.label}";
      inherit (cfg) label;
      fsType = "ext4";
      autoResize = true;
    };
    fileSystems."/boot" = lib.mkIf efi {
      device = "/dev/disk/by-label/ESP";
      fsType = "vfat";
    };
  };
}
