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

  system.stateVersion = "25.05";
}
