# hyperv: Hyper-V generation 2 image, dynamic VHDX with GPT and an ESP (nixos-generators imports nixpkgs' hyperv-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/hyperv-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      common.esp
      common.grubEfiRemovable
      {
        boot.growPartition = true;
        virtualisation.hypervGuest.enable = true;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "hyperv";
        partitionTableType = "efi";
        output = {
          container = "vhdx";
          fileName = "${config.nixos-generate.baseName}.vhdx";
          compression = "none";
        };
      };
    };
}
