# hyperv: Hyper-V generation 2 image, dynamic VHDX with GPT and an ESP (nixos-generators imports nixpkgs' hyperv-image.nix).
let
  filesystems = import ../lib/filesystems.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/hyperv-image.nix";
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
        virtualisation.hypervGuest.enable = true;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "hyperv";
        partitionTableType = "efi";
        output = {
          container = "vhdx";
          fileName = "${config.nixos-generate.baseName}.vhdx";
          compression = "none";
        };
      };
    };
}
