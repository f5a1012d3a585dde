# vm-bootloader: the vm format booting through the system's boot loader from a disk, as
# nixos-generators' formats/vm-bootloader.nix (virtualisation.useBootLoader). The disk,
# make-disk-image's nixos.qcow2 in nixpkgs (built there in a VM), is written here: MBR
# with GRUB for BIOS, or with virtualisation.useEFIBoot a GPT with an ESP booted by OVMF.
# The runner starts each VM on a copy-on-write overlay of it.
{ lib, ... }:
{
  imports = [ ./vm.nix ];

  virtualisation.useBootLoader = true;

  nixos-generate.format = "vm-bootloader";
}
