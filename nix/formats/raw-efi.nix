# raw-efi: raw disk image, GPT with an ESP, GRUB for UEFI installed as removable
# media (the system configuration nixos-generators' raw-efi format sets).
{ lib, ... }:
let
  common = import ../lib/common.nix;
in
{
  imports = [
    ../lib/image-plan.nix
    common.root
    common.esp
    common.grubEfiRemovable
  ];

  boot = {
    growPartition = true;
    kernelParams = [ "console=ttyS0" ];
    loader.timeout = lib.mkDefault 0;
    initrd.availableKernelModules = [ "uas" ];
  };

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
