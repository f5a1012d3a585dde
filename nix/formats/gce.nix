# gce: Google Compute Engine image, disk.raw in a sparse tar.gz, MBR (nixos-generators imports nixpkgs' google-compute-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/google-compute-image.nix";
  essentials =
    { lib, ... }:
    lib.mkMerge [
      common.root
      {
        boot.growPartition = true;
        boot.kernelParams = [ "console=ttyS0" "panic=1" "boot.panic_on_fail" ];
        boot.initrd.kernelModules = [ "virtio_scsi" "nvme" ];
        boot.loader.grub.device = "/dev/sda";
        boot.loader.timeout = 0;
      }
    ];
  settings =
    { config, ... }:
    {
      nixos-generate = {
        format = "gce";
        partitionTableType = "legacy";
        output = {
          container = "gce-tar";
          fileName = "${config.nixos-generate.baseName}.raw.tar.gz";
          compression = "none";
        };
      };
    };
}
