# Imitates nixos/modules/virtualisation/google-compute-config.nix (NixOS
# 25.05), the configuration of a Google Compute Engine instance. It declares
# no options and imports the headless and QEMU guest profiles.
# Set as upstream (plain unless said): the root by label `nixos' (ext4, grown
# on boot), the partition grown on boot, the serial console and reboot on
# panic or stage 1 failure on the kernel command line, virtio_scsi always
# loaded in the initrd and the virtio PCI and network drivers in stage 2,
# GRUB on /dev/sda with no menu delay and no older generations in the menu,
# sshd enabled, root by key only and no passwords (both mkDefault).
# Left out, because the stand-in has no such services, packages or options:
# OS Login (security.googleOsLogin), the Google guest agent and its startup /
# shutdown script units and /etc/default/instance_configs.cfg, the
# google-guest-configs udev rules, modprobe blacklist and sysctl file, the
# google-sudoers group and its sudo rules, cryptsetup in the system path,
# networking.hostName = mkDefault "" (the name comes from the metadata
# server), the firewall off (mkDefault), the metadata host entries and time
# server, networking.usePredictableInterfaceNames = false and eth0's MTU of
# 1460.
{ lib, ... }:
{
  imports = [ ../profiles/headless.nix ../profiles/qemu-guest.nix ];

  fileSystems."/" = {
    fsType = "ext4";
    device = "/dev/disk/by-label/nixos";
    autoResize = true;
  };

  boot.growPartition = true;
  boot.kernelParams = [ "console=ttyS0" "panic=1" "boot.panic_on_fail" ];
  boot.initrd.kernelModules = [ "virtio_scsi" ];
  boot.kernelModules = [ "virtio_pci" "virtio_net" ];

  boot.loader.grub.device = "/dev/sda";
  boot.loader.timeout = 0;
  # Nobody can pick an older generation on GCE's console anyway.
  boot.loader.grub.configurationLimit = 0;

  services.openssh.enable = true;
  services.openssh.settings.PermitRootLogin = lib.mkDefault "prohibit-password";
  services.openssh.settings.PasswordAuthentication = lib.mkDefault false;
}
