# Imitates nixos/modules/virtualisation/openstack-config.nix (NixOS 25.05),
# the configuration of an OpenStack instance. It declares no options; the
# openstack.* options come from ./openstack-options.nix through the module
# list. It imports the QEMU guest and headless profiles.
# Set as upstream (all plain): the root by label `nixos' (ext4, grown on boot)
# unless ZFS, the ESP on /boot when booting with UEFI or ZFS, GRUB on /dev/vda
# or, with openstack.efi, as removable EFI media, a 1 s menu, GRUB on serial
# unit 1, console=tty1, the partition grown on boot, sshd enabled allowing root
# by key only and no passwords (mkDefault).
# Left out, because the stand-in has no such services or options: the imports
# of ec2-data.nix and amazon-init.nix (the metadata service also speaks EC2's
# API), the openstack-init metadata service, serial-getty@tty1, the ZFS
# settings (services.zfs.expandOnBoot, boot.zfs.devNodes) and
# networking.hostName = mkDefault "" (the name comes from the metadata
# service, which nothing in the stand-in queries).
{ config, lib, ... }:
let
  inherit (lib) mkDefault mkIf;
  cfg = config.openstack;
in
{
  imports = [ ../profiles/qemu-guest.nix ../profiles/headless.nix ];

  config = {
    fileSystems."/" = mkIf (!cfg.zfs.enable) {
      device = "/dev/disk/by-label/nixos";
      fsType = "ext4";
      autoResize = true;
    };
    # The ZFS image has a partition labelled ESP even when booting with BIOS.
    fileSystems."/boot" = mkIf (cfg.efi || cfg.zfs.enable) {
      device = "/dev/disk/by-label/ESP";
      fsType = "vfat";
    };

    boot.growPartition = true;
    boot.kernelParams = [ "console=tty1" ];
    boot.loader.grub.device = if cfg.efi then "nodev" else "/dev/vda";
    boot.loader.grub.efiSupport = cfg.efi;
    boot.loader.grub.efiInstallAsRemovable = cfg.efi;
    boot.loader.timeout = 1;
    boot.loader.grub.extraConfig = ''
      serial --unit=1 --speed=115200 --word=8 --parity=no --stop=1
      terminal_output console serial
      terminal_input console serial
    '';

    services.openssh.enable = true;
    services.openssh.settings.PermitRootLogin = "prohibit-password";
    services.openssh.settings.PasswordAuthentication = mkDefault false;
  };
}
