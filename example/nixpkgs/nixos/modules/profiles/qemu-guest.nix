# Imitates nixos/modules/profiles/qemu-guest.nix (NixOS 25.05): the initrd
# kernel modules of a QEMU (virtio) guest. The 9p modules are only made
# available; the balloon, console, entropy and GPU drivers are always loaded.
# The stand-in's kernel (pkgs.linux) keeps every module named here. Nothing is
# left out (the profile sets nothing else; it does not enable the guest agent).
{ ... }:
{
  boot.initrd.availableKernelModules = [
    "virtio_net" "virtio_pci" "virtio_mmio" "virtio_blk" "virtio_scsi"
    "9p" "9pnet_virtio"
  ];
  boot.initrd.kernelModules = [ "virtio_balloon" "virtio_console" "virtio_rng" "virtio_gpu" ];
}
