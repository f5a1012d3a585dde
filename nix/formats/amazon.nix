# amazon: Amazon EC2 image, a dynamic VHD with GPT and a BIOS boot partition (nixos-generators imports nixpkgs' amazon-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "../maintainers/scripts/ec2/amazon-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.kernelParams = [ "console=ttyS0,115200n8" "random.trust_cpu=on" "nvme_core.io_timeout=4294967295" ];
        boot.initrd.availableKernelModules = [ "xen-blkfront" "nvme" ];
        boot.loader.grub.device = "/dev/xvda";
        boot.loader.timeout = 1;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "amazon";
        partitionTableType = "legacy+gpt";
        output = {
          container = "vhd";
          vhd.subformat = "dynamic";
          fileName = "${config.nixos-generate.baseName}.vhd";
          compression = "none";
          sideFiles = [ "amazon-image-info" ];
        };
      };
    };
}
