# vagrant-virtualbox: Vagrant box for the VirtualBox provider, MBR, GRUB for BIOS
# (nixos-generators imports nixpkgs' vagrant-virtualbox-image.nix).
let
  common = import ../lib/common.nix;
  virtualboxPlan = import ../lib/virtualbox.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/vagrant-virtualbox-image.nix";
  settings =
    { config, lib, options, ... }:
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = "legacy"; biosDevice = "/dev/sda"; })
      {
        nixos-generate = {
          format = "vagrant-virtualbox";
          partitionTableType = "legacy";
          additionalSpace = config.virtualbox.baseImageFreeSpace;
          output = {
            container = "vagrant-box";
            # A .box, named after image.baseName (25.05 and later) unless the configuration
            # sets image.fileName. nixpkgs 25.05 names its box <baseName>.ova: its ".box"
            # extension is set at priority 999 and loses to virtualbox-image's "ova".
            fileName =
              if !(options ? image.fileName) then "virtualbox-vagrant.box"
              else if options.image.fileName.highestPrio < 1500 then config.image.fileName
              else "${config.image.baseName}.box";
            compression = "none";
            virtualMachine = common.virtualMachine { inherit config; };
          };
          refusals = virtualboxPlan.refusals { inherit config lib; };
        };
      }
    ];
}
