# Imitates nixos/modules/virtualisation/openstack-options.nix (NixOS 25.05),
# which NixOS's module list imports for every system: the internal openstack.*
# options. openstack.efi (untyped, as upstream) defaults to the platform being
# aarch64 (false for the stand-in's x86_64-linux); openstack.zfs.* describe a
# ZFS root, whose datasets with a mount point become fileSystems entries.
# Left out: networking.hostId = mkDefault "00000000" for ZFS (the stand-in
# declares no networking.hostId). The stand-in has no ZFS (pkgs.zfs throws),
# so, unlike NixOS, an assertion refuses openstack.zfs.enable = true.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.openstack;
in
{
  options.openstack = {
    zfs.enable = mkOption {
      default = false;
      internal = true;
      description = "Whether the instance's root is on ZFS.";
    };
    zfs.datasets = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          mount = mkOption {
            type = types.nullOr types.str;
            default = null;
            description = "Mount point of the dataset (null: not mounted).";
          };
          properties = mkOption {
            type = types.attrsOf types.str;
            default = { };
            description = "ZFS properties set on the dataset.";
          };
        };
      });
      default = { };
      description = "Datasets created in the image's `tank` and `boot` pools (at image build time only; nothing manages them later).";
    };
    efi = mkOption {
      default = pkgs.stdenv.hostPlatform.isAarch64;
      defaultText = lib.literalExpression "pkgs.stdenv.hostPlatform.isAarch64";
      internal = true;
      description = "Whether the instance boots with UEFI.";
    };
  };

  config = lib.mkIf cfg.zfs.enable {
    fileSystems = lib.mapAttrs' (dataset: ds: lib.nameValuePair ds.mount { device = dataset; fsType = "zfs"; })
      (lib.filterAttrs (_: ds: ds.mount != null) cfg.zfs.datasets);
    assertions = [ {
      assertion = false;
      message = "openstack.zfs.enable: the stand-in nixpkgs has no ZFS, so it cannot evaluate or build a ZFS-rooted OpenStack system.";
    } ];
  };
}
