# docker: a root tarball for `docker import` / `podman import`, as nixos-generators'
# formats/docker.nix makes it: nixpkgs' virtualisation/docker-image.nix
# (system.build.tarball), no boot loader, the journal on the console.
{ lib, modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/virtualisation/docker-image.nix"
    ../lib/tarball-plan.nix
  ];

  boot.loader.grub.enable = lib.mkForce false;
  boot.loader.systemd-boot.enable = lib.mkForce false;
  services.journald.console = "/dev/console";

  nixos-generate.format = "docker";
}
