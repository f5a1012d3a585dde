# cloudstack: Apache CloudStack image, qcow2 with MBR (nixos-generators imports
# nixpkgs' cloudstack-config.nix and builds the disk itself, as nixos.qcow2).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/cloudstack-config.nix";
  settings =
    { lib, ... }:
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = "legacy"; })
      {
        nixos-generate = {
          format = "cloudstack";
          partitionTableType = "legacy";
          output = {
            container = "qcow2";
            fileName = "nixos.qcow2";
            compression = "none";
          };
        };
      }
    ];
}
