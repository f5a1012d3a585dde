# do: DigitalOcean image, gzip-compressed qcow2 with MBR (nixos-generators imports nixpkgs' digital-ocean-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/digital-ocean-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.kernelParams = [ "console=ttyS0" "panic=1" "boot.panic_on_fail" ];
        boot.initrd.kernelModules = [ "virtio_scsi" ];
        boot.loader.grub.devices = [ "/dev/vda" ];
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "do";
        partitionTableType = "legacy";
        output = {
          container = "qcow2";
          fileName = "${config.nixos-generate.baseName}.qcow2.gz";
          compression = "gzip";
        };
      };
    };
}
