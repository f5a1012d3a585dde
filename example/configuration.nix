# The example NixOS configuration: a minimal system that boots on a serial
# console, reports one line (EXAMPLE-SYSTEM-BOOTED ...) and powers off.
# Image format modules add the rest (boot loader, partitions, ...).
{ lib, pkgs, ... }:
let
  aarch64 = pkgs.stdenv.hostPlatform.isAarch64;
in
{
  networking.hostName = lib.mkDefault "example";

  # Serial console, so that a bare toplevel booted with QEMU's -kernel prints:
  # the PC's UART, or the PL011 of QEMU's arm "virt" machine. Last on the command
  # line, so it is /dev/console even where a format adds console=tty0 (sd-aarch64).
  boot.kernelParams = lib.mkAfter [ (if aarch64 then "console=ttyAMA0" else "console=ttyS0") ];

  # What make-disk-image style formats create: ext4 labelled "nixos". Defaults
  # only, so that format modules may define the root filesystem differently.
  fileSystems."/" = {
    device = lib.mkDefault "/dev/disk/by-label/nixos";
    fsType = lib.mkDefault "ext4";
  };

  # A boot loader, as every NixOS configuration needs one: GRUB for BIOS on the
  # first virtio disk and for UEFI as removable media, so that the system's
  # closure holds both GRUB builds (images of any layout can be made from it).
  # aarch64 has no BIOS: GRUB for UEFI only.
  boot.loader.grub = {
    device = if aarch64 then "nodev" else "/dev/vda";
    efiSupport = true;
    efiInstallAsRemovable = true;
  };

  system.stateVersion = "25.05";
}
