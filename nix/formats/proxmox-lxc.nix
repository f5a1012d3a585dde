# proxmox-lxc: a Proxmox VE container template (pct create), as nixos-generators'
# formats/proxmox-lxc.nix makes it: nixpkgs' virtualisation/proxmox-lxc.nix
# (system.build.tarball), no boot loader.
{ lib, modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/virtualisation/proxmox-lxc.nix"
    ../lib/tarball-plan.nix
  ];

  boot.loader.grub.enable = lib.mkForce false;
  boot.loader.systemd-boot.enable = lib.mkForce false;

  nixos-generate.format = "proxmox-lxc";
}
