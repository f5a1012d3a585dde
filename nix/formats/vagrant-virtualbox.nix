# vagrant-virtualbox: Vagrant box for the VirtualBox provider, MBR (nixos-generators imports nixpkgs' vagrant-virtualbox-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/vagrant-virtualbox-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.loader.grub.device = "/dev/sda";
      }
    ];
  settings =
    { config, pkgs, ... }:
    {
      nixos-generate = {
        format = "vagrant-virtualbox";
        partitionTableType = "legacy";
        additionalSpace = 30720;
        output = {
          container = "vagrant-box";
          fileName = "virtualbox-vagrant.box";
          compression = "none";
          virtualMachine = common.virtualMachine { inherit config pkgs; };
        };
      };
    };
}
