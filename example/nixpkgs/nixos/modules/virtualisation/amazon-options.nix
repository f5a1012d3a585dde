# Imitates nixos/modules/virtualisation/amazon-options.nix (NixOS 25.05),
# which NixOS's module list imports for every system: the internal ec2.*
# options. ec2.efi (untyped, as upstream) defaults to the platform being
# aarch64 (false for the stand-in's x86_64-linux); ec2.hvm is a read-only
# leftover; ec2.zfs.* describe a ZFS root, whose datasets with a mount point
# become fileSystems entries.
# Left out: networking.hostId = mkDefault "00000000" for ZFS (the stand-in
# declares no networking.hostId). The stand-in has no ZFS (pkgs.zfs throws),
# so, unlike NixOS, an assertion refuses ec2.zfs.enable = true.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.ec2;
in
{
  options.ec2 = {
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
    hvm = mkOption {
      default = true;
      internal = true;
      readOnly = true;
      description = "Unused; kept so that old configurations that read it still evaluate (only HVM instances are supported).";
    };
  };

  config = lib.mkIf cfg.zfs.enable {
    fileSystems = lib.mapAttrs' (dataset: ds: lib.nameValuePair ds.mount { device = dataset; fsType = "zfs"; })
      (lib.filterAttrs (_: ds: ds.mount != null) cfg.zfs.datasets);
    assertions = [ {
      assertion = false;
      message = "ec2.zfs.enable: the stand-in nixpkgs has no ZFS, so it cannot evaluate or build a ZFS-rooted EC2 system.";
    } ];
  };
}
