# hyperv: Hyper-V generation 2 image, dynamic VHDX with GPT and an ESP, GRUB for UEFI
# (nixos-generators imports nixpkgs' hyperv-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/hyperv-image.nix";
  settings =
    { config, lib, options, ... }:
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = "efi"; })
      {
        nixos-generate = {
          format = "hyperv";
          partitionTableType = "efi";
          output = {
            container = "vhdx";
            # 25.05 and later: image.fileName; 24.11: hyperv.vmFileName.
            fileName = common.optionOr options config [ "image" "fileName" ] (config.hyperv.vmFileName or "nixos.vhdx");
            compression = "none";
          };
        };
      }
    ];
}
