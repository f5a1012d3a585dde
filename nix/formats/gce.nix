# gce: Google Compute Engine image, disk.raw in a sparse tar.gz, MBR (nixos-generators imports nixpkgs' google-compute-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/google-compute-image.nix";
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
      boot.initrd.kernelModules = [ "virtio_scsi" "nvme" ];
      boot.loader.grub.device = "/dev/sda";
      boot.loader.timeout = 0;
    })
    {
      nixos-generate = {
        format = "gce";
        partitionTableType = "legacy";
        output = {
          container = "gce-tar";
          fileName = "${cfg.baseName}.raw.tar.gz";
          compression = "none";
        };
      };
    }
  ];
}
