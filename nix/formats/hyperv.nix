# hyperv: Hyper-V generation 2 image, dynamic VHDX with GPT and an ESP (nixos-generators imports nixpkgs' hyperv-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/hyperv-image.nix";
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
      fileSystems."/boot" = {
        device = "/dev/disk/by-label/ESP";
        fsType = "vfat";
      };
      boot.growPartition = true;
      boot.loader.grub = {
        device = "nodev";
        efiSupport = true;
        efiInstallAsRemovable = true;
      };
      virtualisation.hypervGuest.enable = true;
    })
    {
      nixos-generate = {
        format = "hyperv";
        partitionTableType = "efi";
        output = {
          container = "vhdx";
          fileName = "${cfg.baseName}.vhdx";
          compression = "none";
        };
      };
    }
  ];
}
