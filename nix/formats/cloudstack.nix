# cloudstack: Apache CloudStack image, qcow2 with MBR (nixos-generators imports nixpkgs' cloudstack-config.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/cloudstack-config.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.kernelParams = [ "console=tty0" ];
        boot.loader.grub.device = "/dev/vda";
        boot.loader.timeout = 0;
      }
    ];
  settings =
    { lib, ... }:
    {
      fileSystems."/".fsType = lib.mkDefault "ext4";
      nixos-generate = {
        format = "cloudstack";
        partitionTableType = "legacy";
        output = {
          container = "qcow2";
          fileName = "nixos.qcow2";
          compression = "none";
        };
      };
    };
}
