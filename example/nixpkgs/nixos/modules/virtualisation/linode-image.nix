# Imitates nixos/modules/virtualisation/linode-image.nix (NixOS 25.05), the
# Linode image module: a raw make-disk-image disk with no partition table (a
# bare ext4; size virtualisation.diskSize, "auto" by default;
# linodeImage.diskSize is renamed to it since 24.11), gzip'd. It imports
# ./linode-config.nix and the image.* options and declares
# virtualisation.linodeImage:
#   configFile        the image's /etc/nixos/configuration.nix (null: one
#                     that imports this module)
#   compressionLevel  gzip level, 1 to 9
# Set as upstream: the tag `linode' and image.extension "img.gz".
# Left out: system.build.linodeImage / system.build.image (make-disk-image +
# gzip); nixos-generate writes the image itself.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  imports = [
    ./linode-config.nix
    ./disk-size-option.nix
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "virtualisation" "linodeImage" "diskSize" ]; to = [ "virtualisation" "diskSize" ]; })
  ];

  options.virtualisation.linodeImage = {
    configFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "File installed as /etc/nixos/configuration.nix in the image (used by later rebuilds); null installs one that only imports linode-image.nix.";
    };
    compressionLevel = mkOption {
      type = types.ints.between 1 9;
      default = 6;
      description = "gzip compression level (1-9) of the image (Linode takes gzip'd images only).";
    };
  };

  config = {
    system.nixos.tags = [ "linode" ];
    image.extension = "img.gz";
  };
}
