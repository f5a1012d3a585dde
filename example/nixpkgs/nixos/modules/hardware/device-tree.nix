# Imitates nixos/modules/hardware/device-tree.nix (NixOS 25.05): enable, package and
# name. The package is the kernel's device trees as they are (the stand-in applies no
# overlays and no filter; those options are left out). kernel.nix links it as the
# toplevel's dtbs, which the extlinux and systemd-boot builders read.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  kernel = config.boot.kernelPackages.kernel;
in
{
  options.hardware.deviceTree = {
    enable = mkOption {
      type = types.bool;
      default = pkgs.stdenv.hostPlatform.linux-kernel.DTB or false;
      defaultText = lib.literalExpression "pkgs.stdenv.hostPlatform.linux-kernel.DTB or false";
      description = "Whether to build and use device trees (the toplevel's dtbs).";
    };
    package = mkOption {
      type = types.nullOr types.path;
      default = if kernel.hasDtbs or false then "${kernel}/dtbs" else null;
      defaultText = lib.literalMD "the kernel's `dtbs`";
      description = "The device trees (a directory of <vendor>/<board>.dtb).";
    };
    name = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "some-dtb.dtb";
      description = "The device tree the boot loader loads (FDT) instead of letting it choose from the directory (FDTDIR).";
    };
  };
}
