# vagrant-virtualbox: Vagrant box for the VirtualBox provider, MBR (nixos-generators imports nixpkgs' vagrant-virtualbox-image.nix).
{ config, lib, pkgs, modulesPath, ... }:
let
  cfg = config.nixos-generate;
  upstream = "${toString modulesPath}/virtualisation/vagrant-virtualbox-image.nix";
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
      boot.loader.grub.device = "/dev/sda";
    })
    {
      nixos-generate = {
        format = "vagrant-virtualbox";
        partitionTableType = "legacy";
        additionalSpace = 30720;
        output = {
          container = "vagrant-box";
          fileName = "virtualbox-vagrant.box";
          compression = "none";
          virtualMachine = {
            name =
              config.virtualbox.vmName
                or "NixOS ${config.system.nixos.label} (${pkgs.stdenv.hostPlatform.system})";
            memoryMiB = config.virtualbox.memorySize or 1536;
            cpus = 1;
          };
        };
      };
    }
  ];
}
