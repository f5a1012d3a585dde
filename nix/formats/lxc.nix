# lxc: the root tarball for LXC and Incus, as nixos-generators' formats/lxc.nix
# makes it: nixpkgs' virtualisation/lxc-container.nix (system.build.tarball), no
# boot loader. Its metadata tarball is the lxc-metadata format.
{ modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/virtualisation/lxc-container.nix"
    ../lib/tarball-plan.nix
  ];

  nixos-generate.format = "lxc";
}
