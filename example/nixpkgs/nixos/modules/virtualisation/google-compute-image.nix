# Imitates nixos/modules/virtualisation/google-compute-image.nix (NixOS
# 25.05), the Google Compute Engine image module: a raw make-disk-image disk
# (legacy MBR, or GPT with an ESP for EFI; size virtualisation.diskSize,
# "auto" by default; googleComputeImage.diskSize is renamed to it since
# 24.11) packed as the member disk.raw of a gzip'd sparse tar. It imports
# ./google-compute-config.nix and the image.* options and declares
# virtualisation.googleComputeImage:
#   configFile        the image's /etc/nixos/configuration.nix (null: one
#                     that imports this module)
#   compressionLevel  gzip level (1-9; the type is a plain int, as upstream)
#   contents          extra files put into the image
#   efi               boot with UEFI: GPT + ESP, GRUB as removable EFI media
# Set as upstream: nvme available in the initrd; with efi, GRUB's device
# forced to "nodev" (mkForce, over the config module's /dev/sda), EFI support,
# removable install and the ESP on /boot; the tag `google-compute' and
# image.extension "raw.tar.gz".
# Left out: system.build.googleComputeImage / system.build.image
# (make-disk-image + tar + gzip); nixos-generate writes the image itself.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.virtualisation.googleComputeImage;
in
{
  imports = [
    ./google-compute-config.nix
    ./disk-size-option.nix
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "virtualisation" "googleComputeImage" "diskSize" ]; to = [ "virtualisation" "diskSize" ]; })
  ];

  options.virtualisation.googleComputeImage = {
    configFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "File installed as /etc/nixos/configuration.nix in the image (used by later rebuilds); null installs one that only imports google-compute-image.nix.";
    };
    compressionLevel = mkOption {
      type = types.int;
      default = 6;
      description = "gzip compression level (1-9) of the image.";
    };
    contents = mkOption {
      type = types.listOf types.attrs;
      default = [ ];
      example = lib.literalExpression ''[ { source = ./motd; target = "/etc/motd"; mode = "0644"; user = "root"; group = "root"; } ]'';
      description = "Files and directories put into the image, each { source; target; mode?; user?; group?; } (user and group go together).";
    };
    efi = lib.mkEnableOption "EFI booting";
  };

  config = {
    boot.initrd.availableKernelModules = [ "nvme" ];
    boot.loader.grub = lib.mkIf cfg.efi {
      device = lib.mkForce "nodev";
      efiSupport = true;
      efiInstallAsRemovable = true;
    };
    fileSystems."/boot" = lib.mkIf cfg.efi {
      device = "/dev/disk/by-label/ESP";
      fsType = "vfat";
    };

    system.nixos.tags = [ "google-compute" ];
    image.extension = "raw.tar.gz";
  };
}
