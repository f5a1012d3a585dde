# vm: a QEMU runner for the system, as nixos-generators' formats/vm.nix makes it: nixpkgs'
# virtualisation/qemu-vm.nix with a 2 GiB disk by default. The output is a directory with
# system -> <toplevel> and bin/run-<system.name>-vm, a POSIX shell script written by this
# project (nix/lib/vm-plan.nix reads what qemu-vm.nix made of the configuration). The VM
# boots the kernel directly, with the host's store shared over 9p and its root on a disk
# ./<system.name>.qcow2 created on first run.
{ lib, modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/virtualisation/qemu-vm.nix"
    ../lib/vm-plan.nix
  ];

  virtualisation.diskSize = lib.mkDefault (2 * 1024);

  nixos-generate.format = lib.mkDefault "vm";
}
