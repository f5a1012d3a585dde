# raw: raw disk image with MBR, GRUB for BIOS (the system configuration
# nixos-generators' raw format sets).
{ lib, ... }:
let
  common = import ../lib/common.nix;
in
{
  imports = [
    ../lib/image-plan.nix
    common.root
  ];

  boot = {
    growPartition = true;
    kernelParams = [ "console=ttyS0" ];
    loader.grub.device = lib.mkDefault "/dev/vda";
    loader.timeout = lib.mkDefault 0;
    initrd.availableKernelModules = [ "uas" ];
  };

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
