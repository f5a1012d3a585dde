# Imitates nixos/modules/profiles/headless.nix (NixOS 25.05), which the EC2,
# Google Compute and OpenStack modules import: a machine nobody watches
# reboots on a kernel panic and on a stage 1 failure, the kernel keeps a plain
# VGA text mode (GRUB's vga= and nomodeset), and GRUB shows no splash image.
# Left out, because the stand-in declares no systemd units and has no
# emergency mode: the getty units it turns off (serial-getty@ttyS0 at mkDefault,
# serial-getty@hvc0, getty@tty1, autovt@) and systemd.enableEmergencyMode = false.
{ ... }:
{
  boot.kernelParams = [ "panic=1" "boot.panic_on_fail" "vga=0x317" "nomodeset" ];
  boot.loader.grub.splashImage = null;
}
