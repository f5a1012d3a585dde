# openstack: OpenStack image, qcow2 with MBR and 1 GiB free (nixos-generators imports nixpkgs' openstack-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/../maintainers/scripts/openstack/openstack-image.nix";
  hasUpstream = builtins.pathExists upstream;
in
{
  imports = [ ../lib/image-plan.nix ] ++ lib.optional hasUpstream upstream;

  config = lib.mkMerge [
    # What the nixpkgs module sets, for nixpkgs versions (or stand-ins) without it.
    (lib.mkIf (!hasUpstream) {
      fileSystems."/" = {
        device = "/dev/disk/by-label/nixos";
        autoResize = true;
        fsType = "ext4";
      };
      boot.growPartition = true;
      boot.kernelParams = [ "console=tty1" ];
      boot.loader.grub.device = "/dev/vda";
      boot.loader.timeout = 1;
    })
    {
      nixos-generate = {
        format = "openstack";
        partitionTableType = "legacy";
        additionalSpace = 1024;
        output = {
          container = "qcow2";
          fileName = "${cfg.baseName}.qcow2";
          compression = "none";
        };
      };
    }
  ];
}
