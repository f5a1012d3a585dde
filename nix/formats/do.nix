# do: DigitalOcean image, gzip-compressed qcow2 with MBR (nixos-generators imports nixpkgs' digital-ocean-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/digital-ocean-image.nix";
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
      boot.kernelParams = [ "console=ttyS0" "panic=1" "boot.panic_on_fail" ];
      boot.initrd.kernelModules = [ "virtio_scsi" ];
      boot.loader.grub.devices = [ "/dev/vda" ];
    })
    {
      nixos-generate = {
        format = "do";
        partitionTableType = "legacy";
        output = {
          container = "qcow2";
          fileName = "${cfg.baseName}.qcow2.gz";
          compression = "gzip";
        };
      };
    }
  ];
}
