# do: DigitalOcean image, gzip-compressed qcow2 with MBR (nixos-generators imports
# nixpkgs' digital-ocean-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/digital-ocean-image.nix";
  settings =
    { config, lib, options, ... }:
    let
      image = config.virtualisation.digitalOceanImage;
      stem = common.optionOr options config [ "image" "baseName" ] "nixos";
    in
    lib.mkMerge [
      # The nixpkgs module installs GRUB with boot.loader.grub.devices; device stays unset.
      (common.imageBoot lib { partitionTableType = "legacy"; biosDevice = null; })
      {
        nixos-generate = {
          format = "do";
          partitionTableType = "legacy";
          output = {
            container = "qcow2";
            fileName = "${stem}.qcow2.gz";
            compression = "gzip";
          };
          refusals =
            lib.optional (image.compressionMethod != "gzip") {
              option = "virtualisation.digitalOceanImage.compressionMethod";
              value = image.compressionMethod;
              hint = "nixos-generate compresses DigitalOcean images with gzip; remove the setting";
            }
            ++ lib.optional (image.configFile != null) {
              option = "virtualisation.digitalOceanImage.configFile";
              value = toString image.configFile;
              hint = "nixos-generate writes no /etc/nixos/configuration.nix into images; remove the setting";
            };
        };
      }
    ];
}
