# virtualbox: VirtualBox OVA (OVF + streamOptimized VMDK), MBR, GRUB for BIOS
# (nixos-generators imports nixpkgs' virtualbox-image.nix).
let
  common = import ../lib/common.nix;
  virtualboxPlan = import ../lib/virtualbox.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/virtualbox-image.nix";
  settings =
    { config, lib, options, ... }:
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = "legacy"; biosDevice = "/dev/sda"; })
      {
        nixos-generate = {
          format = "virtualbox";
          partitionTableType = "legacy";
          additionalSpace = config.virtualbox.baseImageFreeSpace;
          output = {
            container = "ova";
            # 25.05 and later: image.fileName; 24.11: virtualbox.vmFileName.
            fileName = common.optionOr options config [ "image" "fileName" ] (config.virtualbox.vmFileName or "nixos.ova");
            compression = "none";
            virtualMachine = common.virtualMachine { inherit config; };
          };
          refusals = virtualboxPlan.refusals { inherit config lib; };
        };
      }
    ];
}
