# Imitates nixos/maintainers/scripts/ec2/amazon-image.nix (NixOS 25.05), the
# EC2 image module: it imports the instance configuration
# (modules/virtualisation/amazon-image.nix), virtualisation.diskSize and the
# image.* options, and declares amazonImage.format (make-disk-image's format:
# "vpc" = VHD, "raw", "qcow2") and amazonImage.contents (files copied into the
# image, untyped as upstream). The old amazonImage.sizeMB and amazonImage.name
# are renamed to virtualisation.diskSize (24.11) and image.baseName (25.05).
# Set as upstream: the disk size 4096 MiB just above the option default
# (mkOverride 1490, so that a user's mkDefault wins), "auto" refused with ZFS,
# the tag `amazon', image.extension = amazonImage.format (so 25.05's
# image.fileName ends in ".vpc" although make-disk-image names the VHD ".vhd";
# later releases fix the extension to "vhd"), and the NVMe I/O timeout on the
# kernel command line (the largest value, the stand-in's kernel being newer
# than 4.15).
# Left out: system.build.amazonImage and system.build.image (make-disk-image,
# or make-multi-disk-zfs-image with ZFS, plus nix-support/image-info.json);
# nixos-generate writes the image itself.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  imports = [
    ../../../modules/virtualisation/amazon-image.nix
    ../../../modules/virtualisation/disk-size-option.nix
    ../../../modules/image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "amazonImage" "sizeMB" ]; to = [ "virtualisation" "diskSize" ]; })
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "amazonImage" "name" ]; to = [ "image" "baseName" ]; })
  ];

  options.amazonImage = {
    contents = mkOption {
      default = [ ];
      example = lib.literalExpression ''[ { source = ./motd; target = "etc/motd"; } ]'';
      description = "Files copied into the image, each { source; target; } (glob patterns allowed).";
    };
    format = mkOption {
      type = types.enum [ "raw" "qcow2" "vpc" ];
      default = "vpc";
      description = "Disk image format of the output (make-disk-image's `format'; \"vpc\" is a VHD).";
    };
  };

  config = {
    # Amazon recommends the longest NVMe timeout for EBS volumes (255 before Linux 4.15).
    boot.kernelParams = [
      "nvme_core.io_timeout=${if lib.versionAtLeast config.boot.kernelPackages.kernel.version "4.15" then "4294967295" else "255"}"
    ];

    virtualisation.diskSize = lib.mkOverride 1490 (4 * 1024);
    virtualisation.diskSizeAutoSupported = !config.ec2.zfs.enable;

    system.nixos.tags = [ "amazon" ];
    image.extension = config.amazonImage.format;
  };
}
