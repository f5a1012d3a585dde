# kubevirt: KubeVirt image, qcow2 with MBR (nixos-generators imports nixpkgs' kubevirt.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/kubevirt.nix";
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
      boot.kernelParams = [ "console=ttyS0" ];
      boot.loader.grub.device = "/dev/vda";
      boot.loader.timeout = 0;
      services.qemuGuest.enable = true;
    })
    {
      nixos-generate = {
        format = "kubevirt";
        partitionTableType = "legacy";
        output = {
          container = "qcow2";
          fileName = "${cfg.baseName}.qcow2";
          compression = "none";
        };
      };
    }
  ];
}
