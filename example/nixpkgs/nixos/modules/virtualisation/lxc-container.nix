# Imitates nixos/modules/virtualisation/lxc-container.nix (NixOS 25.05):
# boot.isContainer and system.build.tarball, make-system-tarball named
# image.baseName with the system's init copied to /sbin/init, its
# /etc/os-release, the toplevel's closure, "--owner=0" and
# "mkdir -p proc sys dev"; tags "lxc" (mkOverride 99, so lxc-metadata's tags
# lose), image.extension "tar.xz" in tarball/. The stand-in has no systemd
# stage 1, so /sbin/init is always the toplevel's init (upstream: prepare-root
# with boot.initrd.systemd.enable).
# Left out: the removed options' modules, installBootLoader, the
# activation script and postBootCommands that maintain /sbin/init and load
# /nix-path-registration, udev and networkd settings.
{ config, lib, pkgs, ... }:
let
  toplevel = config.system.build.toplevel;
in
{
  imports = [ ./lxc-instance-common.nix ];

  boot.isContainer = true;
  image.extension = "tar.xz";
  image.filePath = "tarball/${config.image.fileName}";
  system.nixos.tags = lib.mkOverride 99 [ "lxc" ];
  system.build.tarball = pkgs.callPackage ../../lib/make-system-tarball.nix {
    fileName = config.image.baseName;
    extraArgs = "--owner=0";
    storeContents = [
      {
        object = toplevel;
        symlink = "none";
      }
    ];
    contents = [
      {
        source = "${toplevel}/init";
        target = "/sbin/init";
      }
      {
        source = "${toplevel}/etc/os-release";
        target = "/etc/os-release";
      }
    ];
    extraCommands = "mkdir -p proc sys dev";
  };
}
