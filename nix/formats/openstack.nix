# openstack: OpenStack image, qcow2 with MBR and 1 GiB free (nixos-generators imports nixpkgs' openstack-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "../maintainers/scripts/openstack/openstack-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.kernelParams = [ "console=tty1" ];
        boot.loader.grub.device = "/dev/vda";
        boot.loader.timeout = 1;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "openstack";
        partitionTableType = "legacy";
        additionalSpace = 1024;
        output = {
          container = "qcow2";
          fileName = "${config.nixos-generate.baseName}.qcow2";
          compression = "none";
        };
      };
    };
}
