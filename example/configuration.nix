# The example NixOS configuration: a minimal system that boots on a serial
# console, reports one line (EXAMPLE-SYSTEM-BOOTED ...) and powers off.
# Image format modules add the rest (boot loader, partitions, ...).
{ lib, ... }:
{
  networking.hostName = lib.mkDefault "example";

  # Serial console, so that a bare toplevel booted with QEMU's -kernel prints.
  boot.kernelParams = [ "console=ttyS0" ];

  # What make-disk-image style formats create: ext4 labelled "nixos". Defaults
  # only, so that format modules may define the root filesystem differently.
  fileSystems."/" = {
    device = lib.mkDefault "/dev/disk/by-label/nixos";
    fsType = lib.mkDefault "ext4";
  };

  # A boot loader, as every NixOS configuration needs one: GRUB for BIOS on the
  # first virtio disk and for UEFI as removable media, so that the system's
  # closure holds both GRUB builds (images of any layout can be made from it).
  boot.loader.grub = {
    device = "/dev/vda";
    efiSupport = true;
    efiInstallAsRemovable = true;
  };

  system.stateVersion = "25.05";
}
