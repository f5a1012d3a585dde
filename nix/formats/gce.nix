# gce: Google Compute Engine image, disk.raw in a sparse tar.gz (nixos-generators
# imports nixpkgs' google-compute-image.nix): MBR and GRUB for BIOS, or GPT with an ESP
# and GRUB for UEFI with virtualisation.googleComputeImage.efi.
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/google-compute-image.nix";
  settings =
    { config, lib, options, pkgs, ... }:
    let
      gce = config.virtualisation.googleComputeImage;
      layout = if gce.efi then "efi" else "legacy";
    in
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = layout; biosDevice = "/dev/sda"; })
      {
        nixos-generate = {
          format = "gce";
          partitionTableType = layout;
          output = {
            container = "gce-tar";
            fileName = common.optionOr options config [ "image" "fileName" ]
              "nixos-image-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}.raw.tar.gz";
            compression = "none";
            compressionLevel = gce.compressionLevel;
          };
          refusals =
            lib.optional (gce.configFile != null) {
              option = "virtualisation.googleComputeImage.configFile";
              value = toString gce.configFile;
              hint = "nixos-generate writes no /etc/nixos/configuration.nix into images; remove the setting";
            }
            ++ lib.optional ((gce.contents or [ ]) != [ ]) {
              option = "virtualisation.googleComputeImage.contents";
              value = map (c: c.target or "?") gce.contents;
              hint = "copy the files in with environment.etc or a package instead";
            };
        };
      }
    ];
}
