# Imitates nixos/modules/installer/cd-dvd/installation-cd-base.nix (NixOS 25.05):
# an installation CD: the live ISO of ./iso-image.nix with the base and
# installation-device profiles, bootable by EFI and as a USB stick, no swap.
# Left out, because the stand-in has none of them: memtest86+
# (boot.loader.grub.memtest86.enable and /boot/memtest.bin),
# hardware.enableAllHardware (its initrd modules and firmware), console.packages,
# the live.nixos.passwd boot parameter (boot.postBootCommands),
# environment.defaultPackages (rsync) and programs.git.enable.
{ lib, ... }:
{
  imports = [
    ./iso-image.nix
    ../../profiles/base.nix
    ../../profiles/installation-device.nix
  ];

  isoImage.makeEfiBootable = true;
  isoImage.makeUsbBootable = true;

  swapDevices = lib.mkImageMediaOverride [ ];

  system.stateVersion = lib.mkDefault "25.05";
}
