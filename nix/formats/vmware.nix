# vmware: VMware image, monolithicSparse VMDK with GPT and an ESP (nixos-generators imports nixpkgs' vmware-image.nix).
let
  filesystems = import ../lib/filesystems.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/vmware-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      filesystems.root
      filesystems.esp
      {
        boot.growPartition = true;
        boot.loader.grub = {
          device = "nodev";
          efiSupport = true;
          efiInstallAsRemovable = true;
        };
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
