# Imitates nixos/modules/installer/cd-dvd/installation-cd-base.nix (NixOS 25.05):
# an installation CD: the live ISO of ./iso-image.nix with the base and
# installation-device profiles, bootable by EFI and as a USB stick, no swap.
# Memtest86+ is enabled (boot.loader.grub.memtest86.enable), as upstream.
# Left out, because the stand-in has none of them: hardware.enableAllHardware (its initrd modules and firmware), console.packages,
# the live.nixos.passwd boot parameter (boot.postBootCommands),
# environment.defaultPackages (rsync) and programs.git.enable.
{ lib, ... }:
{
  imports = [
    ./iso-image.nix
    ../../profiles/base.nix
    ../../profiles/installation-device.nix
  ];

  # Memtest86+ in the boot menu.
  boot.loader.grub.memtest86.enable = true;

  isoImage.makeEfiBootable = true;
  isoImage.makeUsbBootable = true;

  swapDevices = lib.mkImageMediaOverride [ ];

  system.stateVersion = lib.mkDefault "25.05";
}
