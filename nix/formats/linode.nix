# linode: Linode image, a gzip-compressed bare ext4 (no partition table) whose
# grub.cfg Linode's own GRUB reads (nixos-generators' linode format, which imports
# nixpkgs' linode-image.nix and makes the disk itself, as nixos.img.gz).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/linode-image.nix";
  settings =
    { config, lib, ... }:
    let
      linode = config.virtualisation.linodeImage;
    in
    lib.mkMerge [
      # Linode attaches the disk as /dev/sda; nixpkgs' linode-config.nix mounts it by device.
      (common.imageBoot lib { partitionTableType = "none"; rootDevice = "/dev/sda"; })
      {
        boot.growPartition = true;
        boot.loader.grub.device = lib.mkImageMediaOverride "nodev";
        boot.loader.grub.fsIdentifier = "label";
        boot.loader.grub.splashImage = null;
        services.qemuGuest.enable = true;

        nixos-generate = {
          format = "linode";
          partitionTableType = "none";
          output = {
            container = "raw";
            fileName = "nixos.img.gz";
            compression = "gzip";
            compressionLevel = linode.compressionLevel;
          };
          refusals = lib.optional (linode.configFile != null) {
            option = "virtualisation.linodeImage.configFile";
            value = toString linode.configFile;
            hint = "nixos-generate writes no /etc/nixos/configuration.nix into images; remove the setting";
          };
        };
      }
    ];
}
