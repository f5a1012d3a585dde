# docker: a root tarball for `docker import` / `podman import`, as nixos-generators'
# formats/docker.nix makes it: nixpkgs' virtualisation/docker-image.nix
# (system.build.tarball), no boot loader, the journal on the console.
{ modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/virtualisation/docker-image.nix"
    ../lib/tarball-plan.nix
  ];

  services.journald.console = "/dev/console";

  nixos-generate.format = "docker";
}
