# azure: Azure image, a fixed VHD of whole MiB (nixos-generators imports nixpkgs'
# azure-image.nix): MBR and GRUB for BIOS (generation v1, the default), or GPT with an
# ESP and GRUB for UEFI (virtualisation.azureImage.vmGeneration = "v2").
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/azure-image.nix";
  settings =
    { config, lib, options, ... }:
    let
      azure = config.virtualisation.azureImage;
      layout = if azure.vmGeneration == "v2" then "efi" else "legacy";
    in
    lib.mkMerge [
      (common.imageBoot lib {
        partitionTableType = layout;
        biosDevice = "/dev/sda";
        rootDevice = "/dev/disk/by-label/${azure.label}";
      })
      {
        nixos-generate = {
          format = "azure";
          partitionTableType = layout;
          rootLabel = azure.label;
          output = {
            container = "vhd";
            vhd.subformat = "fixed";
            # 25.05 and later: image.fileName; 24.11 wrote disk.vhd.
            fileName = common.optionOr options config [ "image" "fileName" ] "disk.vhd";
            compression = "none";
          };
          refusals =
            lib.optional (layout == "efi" && azure.bootSize != 256) {
              option = "virtualisation.azureImage.bootSize";
              value = azure.bootSize;
              hint = "nixos-generate makes make-disk-image's default 256 MiB EFI system partition; remove the setting";
            }
            ++ lib.optional ((azure.contents or [ ]) != [ ]) {
              option = "virtualisation.azureImage.contents";
              value = map (c: c.target or "?") azure.contents;
              hint = "copy the files in with environment.etc or a package instead";
            };
        };
      }
    ];
}
