# azure: Azure generation 1 image, a fixed VHD (whole MiB) with MBR (nixos-generators imports nixpkgs' azure-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/azure-image.nix";
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
      boot.kernelParams = [ "console=ttyS0" "earlyprintk=ttyS0" "rootdelay=300" "panic=1" "boot.panic_on_fail" ];
      boot.initrd.availableKernelModules = [ "hv_vmbus" "hv_netvsc" "hv_utils" "hv_storvsc" ];
      boot.loader.grub.device = "/dev/sda";
      boot.loader.timeout = 0;
    })
    {
      nixos-generate = {
        format = "azure";
        partitionTableType = "legacy";
        output = {
          container = "vhd";
          vhd.subformat = "fixed";
          fileName = "${cfg.baseName}.vhd";
          compression = "none";
        };
      };
    }
  ];
}
