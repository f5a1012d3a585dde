# Imitates nixos/modules/virtualisation/linode-config.nix (NixOS 25.05), the
# configuration of a Linode instance. It declares no options and imports the
# QEMU guest profile.
# Set as upstream (plain unless said): the root on the whole disk /dev/sda
# (by device, not by label; ext4, grown on boot), the serial console at 19200
# baud for LISH, the virtio PCI/SCSI, AHCI and SCSI disk drivers available in
# the initrd and the virtio network driver in stage 2, a 10 s menu forced
# (mkForce) to leave time to attach LISH, GRUB enabled, forced to install,
# device "nodev" (Linode's own GRUB reads the menu) and on the serial port at
# 19200 baud (upstream separates these GRUB commands with `;' as well as
# newlines; the same commands), sshd enabled, root by key only and no passwords (mkDefault).
# Left out, because the stand-in has no such options or packages: the swap
# disk /dev/sdb (swapDevices, mkDefault), the network settings (DHCP on eth0
# only, IPv6 privacy extensions off, networking.usePredictableInterfaceNames
# = false) and inetutils, mtr and sysstat in the system path.
{ lib, ... }:
{
  imports = [ ../profiles/qemu-guest.nix ];

  services.openssh.enable = true;
  services.openssh.settings.PermitRootLogin = "prohibit-password";
  services.openssh.settings.PasswordAuthentication = lib.mkDefault false;

  fileSystems."/" = {
    fsType = "ext4";
    device = "/dev/sda";
    autoResize = true;
  };

  boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_scsi" "ahci" "sd_mod" ];
  boot.kernelParams = [ "console=ttyS0,19200n8" ];
  boot.kernelModules = [ "virtio_net" ];

  boot.loader.timeout = lib.mkForce 10;
  boot.loader.grub = {
    enable = true;
    forceInstall = true;
    device = "nodev";
    extraConfig = ''
      serial --unit=0 --speed=19200 --word=8 --parity=no --stop=1
      terminal_input serial
      terminal_output serial
    '';
  };
}
