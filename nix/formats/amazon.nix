# amazon: Amazon EC2 image, a dynamic VHD with GPT and a BIOS boot partition (nixos-generators imports nixpkgs' amazon-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/../maintainers/scripts/ec2/amazon-image.nix";
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
      boot.kernelParams = [ "console=ttyS0,115200n8" "random.trust_cpu=on" "nvme_core.io_timeout=4294967295" ];
      boot.initrd.availableKernelModules = [ "xen-blkfront" "nvme" ];
      boot.loader.grub.device = "/dev/xvda";
      boot.loader.timeout = 1;
    })
    {
      nixos-generate = {
        format = "amazon";
        partitionTableType = "legacy+gpt";
        output = {
          container = "vhd";
          vhd.subformat = "dynamic";
          fileName = "${cfg.baseName}.vhd";
          compression = "none";
          sideFiles = [ "amazon-image-info" ];
        };
      };
    }
  ];
}
