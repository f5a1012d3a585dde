# kubevirt: KubeVirt image, qcow2 with MBR (nixos-generators imports nixpkgs' kubevirt.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/kubevirt.nix";
  settings =
    { config, lib, options, ... }:
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = "legacy"; })
      {
        nixos-generate = {
          format = "kubevirt";
          partitionTableType = "legacy";
          output = {
            container = "qcow2";
            fileName = "${common.optionOr options config [ "image" "baseName" ] "nixos"}.qcow2";
            compression = "none";
          };
        };
      }
    ];
}
