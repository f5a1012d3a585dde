# virtualbox: VirtualBox OVA (OVF + streamOptimized VMDK), MBR (nixos-generators imports nixpkgs' virtualbox-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/virtualbox-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.loader.grub.device = "/dev/sda";
      }
    ];
  settings =
    { config, pkgs, ... }:
    {
      nixos-generate = {
        format = "virtualbox";
        partitionTableType = "legacy";
        additionalSpace = 30720;
        output = {
          container = "ova";
          fileName = "${config.nixos-generate.baseName}.ova";
          compression = "none";
          virtualMachine = common.virtualMachine { inherit config pkgs; };
        };
      };
    };
}
