# raw: raw disk image with MBR, GRUB for BIOS (the system configuration
# nixos-generators' raw format sets).
{ lib, ... }:
let
  common = import ../lib/common.nix;
in
{
  imports = [ ../lib/image-plan.nix ];

  config = lib.mkMerge [
    (common.imageBoot lib { partitionTableType = "legacy"; biosDeviceDefault = true; })
    {
      boot.growPartition = true;
      boot.kernelParams = [ "console=ttyS0" ];
      boot.loader.timeout = lib.mkDefault 0;
      boot.initrd.availableKernelModules = [ "uas" ];

      nixos-generate = {
        format = "raw";
        partitionTableType = "legacy";
        output = {
          container = "raw";
          fileName = "nixos.img";
          compression = "none";
        };
      };
    }
  ];
}
