# Imitates nixos/modules/profiles/docker-container.nix (NixOS 25.05): a system
# for Docker/Podman, run as /init: boot.isContainer, and system.build.tarball,
# make-system-tarball with the toplevel's entries at the root, the closure of
# the toplevel and stdenv in nix/store, "--owner=0" and the extra commands
# (a writeScript) "rm etc" and "mkdir -p proc sys dev etc".
# Left out: the imports of channel.nix, minimal.nix and clone-config.nix, the
# /init activation script and the postBootCommands that load
# /nix-path-registration (the stand-in's stage 2 reports the registration).
{ config, lib, pkgs, ... }:
{
  boot.isContainer = true;

  system.build.tarball = pkgs.callPackage ../../lib/make-system-tarball.nix {
    extraArgs = "--owner=0";
    storeContents = map (x: { object = x; symlink = "none"; }) [
      config.system.build.toplevel
      pkgs.stdenv
    ];
    contents = [
      {
        source = "${config.system.build.toplevel}/.";
        target = "./";
      }
    ];
    extraCommands = pkgs.writeScript "extra-commands.sh" ''
      rm etc
      mkdir -p proc sys dev etc
    '';
  };
}
