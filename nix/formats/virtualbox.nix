# virtualbox: VirtualBox OVA (OVF + streamOptimized VMDK), MBR (nixos-generators imports nixpkgs' virtualbox-image.nix).
let
  filesystems = import ../lib/filesystems.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/virtualbox-image.nix";
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
        format = "virtualbox";
        partitionTableType = "legacy";
        additionalSpace = 30720;
        output = {
          container = "ova";
          fileName = "${config.nixos-generate.baseName}.ova";
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
