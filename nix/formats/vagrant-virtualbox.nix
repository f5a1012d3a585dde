# vagrant-virtualbox: Vagrant box for the VirtualBox provider, MBR (nixos-generators imports nixpkgs' vagrant-virtualbox-image.nix).
let
  filesystems = import ../lib/filesystems.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/vagrant-virtualbox-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      filesystems.root
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
          virtualMachine = {
            name =
              config.virtualbox.vmName
                or "NixOS ${config.system.nixos.label} (${pkgs.stdenv.hostPlatform.system})";
            memoryMiB = config.virtualbox.memorySize or 1536;
            cpus = 1;
          };
        };
      };
    };
}
