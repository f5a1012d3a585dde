# Imitates nixos/modules/virtualisation/digital-ocean-image.nix (NixOS 25.05),
# the DigitalOcean image module: a qcow2 made by make-disk-image (default
# legacy MBR layout, size virtualisation.diskSize, "auto" by default;
# digitalOceanImage.diskSize is renamed to it since 24.11), then compressed.
# It imports ./digital-ocean-config.nix and the image.* options and declares
# virtualisation.digitalOceanImage:
#   compressionMethod  "gzip" (.qcow2.gz) or "bzip2" (.qcow2.bz2)
#   configFile         the image's /etc/nixos/configuration.nix (null: the
#                      default one from digital-ocean-init.nix)
# Set as upstream: the tag `digital-ocean' and image.extension
# "qcow2.<gz|bz2>".
# Left out: system.build.digitalOceanImage / system.build.image
# (make-disk-image); nixos-generate writes the image itself.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.virtualisation.digitalOceanImage;
in
{
  imports = [
    ./digital-ocean-config.nix
    ./disk-size-option.nix
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "virtualisation" "digitalOceanImage" "diskSize" ]; to = [ "virtualisation" "diskSize" ]; })
  ];

  options.virtualisation.digitalOceanImage = {
    configFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      description = "File installed as /etc/nixos/configuration.nix in the image (used by later rebuilds); null installs a default that imports digital-ocean-config.nix.";
    };
    compressionMethod = mkOption {
      type = types.enum [ "gzip" "bzip2" ];
      default = "gzip";
      example = "bzip2";
      description = "How the qcow2 image is compressed: bzip2 is smaller (less metered storage) but slower to make.";
    };
  };

  config = {
    image.extension = "qcow2.${if cfg.compressionMethod == "bzip2" then "bz2" else "gz"}";
    system.nixos.tags = [ "digital-ocean" ];
  };
}
