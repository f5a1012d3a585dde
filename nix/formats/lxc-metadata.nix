# lxc-metadata: the metadata tarball LXC and Incus import beside the root tarball
# (metadata.yaml and virtualisation.lxc.templates), as nixos-generators'
# formats/lxc-metadata.nix makes it: nixpkgs' virtualisation/lxc-container.nix
# (which brings lxc-image-metadata.nix), system.build.metadata, no boot loader.
{ modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/virtualisation/lxc-container.nix"
    ../lib/tarball-plan.nix
  ];

  nixos-generate.format = "lxc-metadata";
  nixos-generate.tarballAttribute = "metadata";
}
