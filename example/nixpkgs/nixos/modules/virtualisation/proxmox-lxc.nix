# Imitates nixos/modules/virtualisation/proxmox-lxc.nix (NixOS 25.05):
# proxmoxLXC.{enable,privileged,manageNetwork,manageHostName} and, when
# enabled, boot.isContainer and system.build.tarball, make-system-tarball
# named image.baseName with the system's init copied to /sbin/init, the
# toplevel's closure and "mkdir -p root etc/systemd/network"; tags "proxmox"
# "lxc", image.extension "tar.xz" in tarball/.
# Left out: what the options change in the running system (networkd, host
# name, debugfs mount, getty, ping wrapper, registration at boot).
{ config, lib, pkgs, ... }:
let
  cfg = config.proxmoxLXC;
in
{
  imports = [ ../image/file-options.nix ];

  options.proxmoxLXC = {
    enable = lib.mkOption { type = lib.types.bool; default = true; description = "Whether to enable the Proxmox VE LXC module."; };
    privileged = lib.mkOption { type = lib.types.bool; default = false; description = "Whether to enable privileged mounts"; };
    manageNetwork = lib.mkOption { type = lib.types.bool; default = false; description = "Whether to manage network interfaces through nix options. When false, systemd-networkd is enabled to accept network configuration from proxmox."; };
    manageHostName = lib.mkOption { type = lib.types.bool; default = false; description = "Whether to manage hostname through nix options. When false, the hostname is picked up from /etc/hostname populated by proxmox."; };
  };

  config = lib.mkIf cfg.enable {
    boot.isContainer = true;
    image.extension = "tar.xz";
    image.filePath = "tarball/${config.image.fileName}";
    system.nixos.tags = [ "proxmox" "lxc" ];
    system.build.tarball = pkgs.callPackage ../../lib/make-system-tarball.nix {
      fileName = config.image.baseName;
      storeContents = [
        {
          object = config.system.build.toplevel;
          symlink = "none";
        }
      ];
      contents = [
        {
          source = "${config.system.build.toplevel}/init";
          target = "/sbin/init";
        }
      ];
      extraCommands = "mkdir -p root etc/systemd/network";
    };
  };
}
