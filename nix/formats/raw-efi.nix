# raw-efi: raw disk image, GPT with an ESP, GRUB for UEFI installed as removable
# media (the system configuration nixos-generators' raw-efi format sets).
{ lib, ... }:
let
  common = import ../lib/common.nix;
in
{
  imports = [ ../lib/image-plan.nix ];

  config = lib.mkMerge [
    (common.imageBoot lib { partitionTableType = "efi"; })
    {
      boot.growPartition = true;
      boot.kernelParams = [ "console=ttyS0" ];
      boot.loader.timeout = lib.mkDefault 0;
      boot.initrd.availableKernelModules = [ "uas" ];

      nixos-generate = {
        format = "raw-efi";
        partitionTableType = "efi";
        output = {
          container = "raw";
          fileName = "nixos.img";
          compression = "none";
        };
      };
    }
  ];
}
