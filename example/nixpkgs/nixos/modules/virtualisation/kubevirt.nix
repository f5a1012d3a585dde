# Imitates nixos/modules/virtualisation/kubevirt.nix (NixOS 25.05), the
# KubeVirt image module: a qcow2 made by make-disk-image with its defaults
# (legacy MBR, size "auto"; it does not import disk-size-option.nix). It
# declares no options; it imports the QEMU guest profile and the image.*
# options.
# Set as upstream (plain): the root by label `nixos' (ext4, grown on boot),
# the partition grown on boot, console=ttyS0, GRUB on /dev/vda with no menu
# delay, the QEMU guest agent and sshd enabled, the tag `kubevirt' and
# image.extension "qcow2".
# Left out, because the stand-in has no such services: cloud-init and
# serial-getty@ttyS0; and system.build.kubevirtImage / system.build.image
# (make-disk-image); nixos-generate writes the image itself.
{ ... }:
{
  imports = [ ../profiles/qemu-guest.nix ../image/file-options.nix ];

  config = {
    fileSystems."/" = {
      device = "/dev/disk/by-label/nixos";
      fsType = "ext4";
      autoResize = true;
    };

    boot.growPartition = true;
    boot.kernelParams = [ "console=ttyS0" ];
    boot.loader.grub.device = "/dev/vda";
    boot.loader.timeout = 0;

    services.qemuGuest.enable = true;
    services.openssh.enable = true;

    system.nixos.tags = [ "kubevirt" ];
    image.extension = "qcow2";
  };
}
