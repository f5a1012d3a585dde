# vmware: VMware image, monolithicSparse VMDK with GPT and an ESP (nixos-generators imports nixpkgs' vmware-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/vmware-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      common.esp
      common.grubEfiRemovable
      {
        boot.growPartition = true;
        virtualisation.vmware.guest.enable = true;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "vmware";
        partitionTableType = "efi";
        output = {
          container = "vmdk";
          vmdk.subformat = "monolithicSparse";
          fileName = "${config.nixos-generate.baseName}.vmdk";
          compression = "none";
        };
      };
    };
}
