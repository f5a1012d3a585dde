# Imitates nixos/modules/virtualisation/cloudstack-config.nix (NixOS 25.05),
# the configuration of a CloudStack instance. It declares no options and
# imports the QEMU guest profile.
# Set as upstream: the root by label `nixos' (ext4, grown on boot) at
# mkImageMediaOverride priority (60, above plain definitions; written per
# attribute, which is what the module system does with an override on a
# submodule value), GRUB on /dev/vda, no menu delay, console=tty0, the
# partition grown on boot, sshd enabled allowing root by key only.
# Left out, because the stand-in has no such services or packages:
# cloud-init and its /etc/cloud/cloud.cfg.d/99_cloudstack.cfg (CloudStack as
# the only data source), and wget in the system path.
{ lib, ... }:
{
  imports = [ ../profiles/qemu-guest.nix ];

  config = {
    fileSystems."/" = {
      device = lib.mkImageMediaOverride "/dev/disk/by-label/nixos";
      autoResize = lib.mkImageMediaOverride true;
      fsType = lib.mkImageMediaOverride "ext4";
    };

    boot.growPartition = true;
    boot.kernelParams = [ "console=tty0" ];
    boot.loader.grub.device = "/dev/vda";
    boot.loader.timeout = 0;

    services.openssh.enable = true;
    services.openssh.settings.PermitRootLogin = "prohibit-password";
  };
}
