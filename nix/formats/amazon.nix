# amazon: Amazon EC2 image (nixos-generators imports nixpkgs' amazon-image.nix). By
# default a dynamic VHD with GPT and a BIOS boot partition; ec2.efi (the default on
# aarch64) gives the EFI layout, amazonImage.format the container.
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "../maintainers/scripts/ec2/amazon-image.nix";
  settings =
    { config, lib, options, ... }:
    let
      layout = if config.ec2.efi then "efi" else "legacy+gpt";
      format = config.amazonImage.format;
      extension = { vpc = "vhd"; raw = "img"; qcow2 = "qcow2"; }.${format};
      container = { vpc = "vhd"; raw = "raw"; qcow2 = "qcow2"; }.${format};
      # 25.05 and later: make-disk-image's baseName is image.baseName; 24.11: amazonImage.name.
      stem = common.optionOr options config [ "image" "baseName" ] (config.amazonImage.name or "nixos");
    in
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = layout; biosDevice = "/dev/xvda"; })
      {
        nixos-generate = {
          format = "amazon";
          partitionTableType = layout;
          output = {
            inherit container;
            fileName = "${stem}.${extension}";
            compression = "none";
            sideFiles = [ "amazon-image-info" ];
          } // lib.optionalAttrs (container == "vhd") { vhd.subformat = "dynamic"; };
          refusals =
            lib.optional (config.amazonImage.contents != [ ]) {
              option = "amazonImage.contents";
              value = map (c: c.target or "?") config.amazonImage.contents;
              hint = "copy the files in with environment.etc or a package instead";
            }
            ++ lib.optional (config.ec2.zfs.enable or false) {
              option = "ec2.zfs.enable";
              value = true;
              hint = "nixos-generate writes ext4 root filesystems only";
            };
        };
      }
    ];
}
