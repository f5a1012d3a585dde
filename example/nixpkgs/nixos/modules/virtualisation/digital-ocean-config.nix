# Imitates nixos/modules/virtualisation/digital-ocean-config.nix (NixOS
# 25.05), the configuration of a DigitalOcean droplet. It imports the QEMU
# guest profile and declares virtualisation.digitalOcean.{setRootPassword
# (false), setSshKeys (true), seedEntropy (true)}, which upstream turn the
# metadata services on and off (accepted and ignored here).
# Set as upstream: the root by label `nixos' (ext4, grown on boot) at mkDefault
# priority (written per attribute, which is what the module system does with
# a mkDefault on a submodule value), GRUB on /dev/vda through the `devices'
# list, the serial console and reboot on panic or stage 1 failure on the
# kernel command line, virtio_scsi always loaded in the initrd and the virtio
# PCI and network drivers in stage 2, the partition grown on boot, sshd
# enabled and passwords refused (both mkDefault).
# Left out, because the stand-in has no such services or options: the import
# of digital-ocean-init.nix (user data, and the default configuration file
# that ./digital-ocean-image.nix falls back to), the metadata, root password,
# hostname, SSH key and entropy seeding services, the DigitalOcean agent
# (services.do-agent) and networking.hostName = mkDefault "" (the name comes
# from the metadata service).
{ lib, ... }:
let
  inherit (lib) mkDefault mkOption types;
in
{
  imports = [ ../profiles/qemu-guest.nix ];

  options.virtualisation.digitalOcean = {
    setRootPassword = mkOption {
      type = types.bool;
      default = false;
      example = true;
      description = "Whether to set root's password from the droplet's metadata.";
    };
    setSshKeys = mkOption {
      type = types.bool;
      default = true;
      example = true;
      description = "Whether to install root's SSH keys from the droplet's metadata.";
    };
    seedEntropy = mkOption {
      type = types.bool;
      default = true;
      example = true;
      description = "Whether to seed the kernel's random number generator with DigitalOcean's vendor data script.";
    };
  };

  config = {
    fileSystems."/" = {
      device = mkDefault "/dev/disk/by-label/nixos";
      autoResize = mkDefault true;
      fsType = mkDefault "ext4";
    };
    boot.growPartition = true;
    boot.kernelParams = [ "console=ttyS0" "panic=1" "boot.panic_on_fail" ];
    boot.initrd.kernelModules = [ "virtio_scsi" ];
    boot.kernelModules = [ "virtio_pci" "virtio_net" ];
    boot.loader.grub.devices = [ "/dev/vda" ];

    services.openssh.enable = mkDefault true;
    services.openssh.settings.PasswordAuthentication = mkDefault false;
  };
}
