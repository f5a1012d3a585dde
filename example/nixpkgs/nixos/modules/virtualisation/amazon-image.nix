# Imitates nixos/modules/virtualisation/amazon-image.nix (NixOS 25.05), the
# configuration of an EC2 instance (the image itself is made by
# nixos/maintainers/scripts/ec2/amazon-image.nix). It declares no options; the
# ec2.* options come from ./amazon-options.nix through the module list.
# Set as upstream: the root by label `nixos' (ext4, grown on boot) at mkDefault
# priority unless ZFS, the ESP on /boot at mkDefault when booting with UEFI or
# ZFS, GRUB on /dev/xvda for BIOS or as removable EFI media with ec2.efi, a
# 1 s menu, GRUB on the serial port, the serial console on the kernel command
# line, nvme available and xen-blkfront always loaded in the initrd, the
# partition grown on boot, sshd enabled allowing root by key only. The
# mkDefault on the filesystems is written per attribute, which is what the
# module system does with a mkDefault on a submodule value.
# Left out, because the stand-in has no such packages, services or options:
# the ena driver package (boot.extraModulePackages; Debian's kernel has ena
# already), boot.blacklistedKernelModules (nouveau, xen_fbfront), the imports
# of ec2-data.nix and amazon-init.nix (user data services), the metadata
# fetching service, the SSM agent, serial-getty@ttyS0, amazon-ec2-utils' udev
# rules, cryptsetup in the system path, the EC2 time server, udisks2 off, the
# ZFS settings (services.zfs.expandOnBoot, boot.zfs.devNodes) and
# networking.hostName = mkDefault "" (the name comes from the instance
# metadata, which nothing in the stand-in fetches).
{ config, lib, ... }:
let
  inherit (lib) mkDefault mkIf;
  cfg = config.ec2;
in
{
  imports = [ ../profiles/headless.nix ];

  config = {
    boot.growPartition = true;

    fileSystems."/" = mkIf (!cfg.zfs.enable) {
      device = mkDefault "/dev/disk/by-label/nixos";
      fsType = mkDefault "ext4";
      autoResize = mkDefault true;
    };
    # The ZFS image has a partition labelled ESP even when booting with BIOS.
    fileSystems."/boot" = mkIf (cfg.efi || cfg.zfs.enable) {
      device = mkDefault "/dev/disk/by-label/ESP";
      fsType = mkDefault "vfat";
    };

    boot.initrd.kernelModules = [ "xen-blkfront" ];
    boot.initrd.availableKernelModules = [ "nvme" ];
    boot.kernelParams = [ "console=ttyS0,115200n8" "random.trust_cpu=on" ];

    boot.loader.grub.device = if cfg.efi then "nodev" else "/dev/xvda";
    boot.loader.grub.efiSupport = cfg.efi;
    boot.loader.grub.efiInstallAsRemovable = cfg.efi;
    boot.loader.timeout = 1;
    boot.loader.grub.extraConfig = ''
      serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
      terminal_output console serial
      terminal_input console serial
    '';

    services.openssh.enable = true;
    services.openssh.settings.PermitRootLogin = "prohibit-password";
  };
}
