# proxmox-lxc: a Proxmox VE container template (pct create), as nixos-generators'
# formats/proxmox-lxc.nix makes it: nixpkgs' virtualisation/proxmox-lxc.nix
# (system.build.tarball), no boot loader.
{ modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/virtualisation/proxmox-lxc.nix"
    ../lib/tarball-plan.nix
  ];

  nixos-generate.format = "proxmox-lxc";
}
