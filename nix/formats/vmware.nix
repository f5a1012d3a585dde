# vmware: VMware image, monolithicSparse VMDK with GPT and an ESP (nixos-generators imports nixpkgs' vmware-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/vmware-image.nix";
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
      virtualisation.vmware.guest.enable = true;
    })
    {
      nixos-generate = {
        format = "vmware";
        partitionTableType = "efi";
        output = {
          container = "vmdk";
          vmdk.subformat = "monolithicSparse";
          fileName = "${cfg.baseName}.vmdk";
          compression = "none";
        };
      };
    }
  ];
}
