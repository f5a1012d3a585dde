# linode: Linode image, a gzip-compressed bare ext4 (no partition table) whose grub.cfg Linode's own GRUB reads (nixos-generators' linode format).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/linode-image.nix";
  hasUpstream = builtins.pathExists upstream;
in
{
  imports = [ ../lib/image-plan.nix ] ++ lib.optional hasUpstream upstream;

  config = lib.mkMerge [
    # What the nixpkgs module sets, for nixpkgs versions (or stand-ins) without it.
    (lib.mkIf (!hasUpstream) {
      fileSystems."/" = {
        device = "/dev/sda";
        autoResize = true;
        fsType = "ext4";
      };
      boot.kernelParams = [ "console=ttyS0,19200n8" ];
      boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_scsi" "ahci" "sd_mod" ];
      boot.loader.grub = {
        device = "nodev";
        forceInstall = true;
      };
      boot.loader.timeout = lib.mkForce 10;
    })
    {
      boot.growPartition = true;
      boot.loader.grub.fsIdentifier = "label";
      boot.loader.grub.splashImage = null;
      services.qemuGuest.enable = true;
      nixos-generate = {
        format = "linode";
        partitionTableType = "none";
        output = {
          container = "raw";
          fileName = "nixos.img.gz";
          compression = "gzip";
        };
      };
    }
  ];
}
