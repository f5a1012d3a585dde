# azure: Azure generation 1 image, a fixed VHD (whole MiB) with MBR (nixos-generators imports nixpkgs' azure-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/azure-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.kernelParams = [ "console=ttyS0" "earlyprintk=ttyS0" "rootdelay=300" "panic=1" "boot.panic_on_fail" ];
        boot.initrd.availableKernelModules = [ "hv_vmbus" "hv_netvsc" "hv_utils" "hv_storvsc" ];
        boot.loader.grub.device = "/dev/sda";
        boot.loader.timeout = 0;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "azure";
        partitionTableType = "legacy";
        output = {
          container = "vhd";
          vhd.subformat = "fixed";
          fileName = "${config.nixos-generate.baseName}.vhd";
          compression = "none";
        };
      };
    };
}
