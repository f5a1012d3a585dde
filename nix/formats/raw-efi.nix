# raw-efi: raw disk image, GPT with an ESP, GRUB for UEFI installed as removable
# media (the system configuration nixos-generators' raw-efi format sets).
{ lib, ... }:
let
  filesystems = import ../lib/filesystems.nix;
in
{
  imports = [
    ../lib/image-plan.nix
    filesystems.root
    filesystems.esp
  ];

  boot = {
    growPartition = true;
    kernelParams = [ "console=ttyS0" ];
    loader.grub = {
      device = "nodev";
      efiSupport = true;
      efiInstallAsRemovable = true;
    };
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
