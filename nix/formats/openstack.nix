# openstack: OpenStack image, qcow2 with MBR and 1 GiB free (nixos-generators imports
# nixpkgs' openstack-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "../maintainers/scripts/openstack/openstack-image.nix";
  settings =
    { config, lib, options, ... }:
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = "legacy"; })
      {
        nixos-generate = {
          format = "openstack";
          partitionTableType = "legacy";
          additionalSpace = 1024;
          output = {
            container = "qcow2";
            fileName = "${common.optionOr options config [ "image" "baseName" ] "nixos"}.qcow2";
            compression = "none";
          };
          refusals =
            # nixpkgs' builder keeps the MBR layout with openstack.efi, which cannot boot.
            lib.optional (config.openstack.efi or false) {
              option = "openstack.efi";
              value = true;
              hint = "the openstack image has an MBR and GRUB for BIOS only; use it on x86_64 without openstack.efi";
            }
            ++ lib.optional (config.openstack.zfs.enable or false) {
              option = "openstack.zfs.enable";
              value = true;
              hint = "nixos-generate writes ext4 root filesystems only";
            };
        };
      }
    ];
}
