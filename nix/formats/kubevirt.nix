# kubevirt: KubeVirt image, qcow2 with MBR (nixos-generators imports nixpkgs' kubevirt.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/kubevirt.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.kernelParams = [ "console=ttyS0" ];
        boot.loader.grub.device = "/dev/vda";
        boot.loader.timeout = 0;
        services.qemuGuest.enable = true;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "kubevirt";
        partitionTableType = "legacy";
        output = {
          container = "qcow2";
          fileName = "${config.nixos-generate.baseName}.qcow2";
          compression = "none";
        };
      };
    };
}
