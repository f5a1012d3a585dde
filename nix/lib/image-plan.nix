# Shared by every nixos-generate format module: declares the format's options and
# exports system.build.imagePlan, the JSON contract the TypeScript writers consume
# (docs/image-plan.md). Custom formats (--format-path) import this file too.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:
let
  cfg = config.nixos-generate;
  layouts = import ./layouts.nix;
  diskSizeOption = "${toString modulesPath}/virtualisation/disk-size-option.nix";
  hasDiskSizeOption = builtins.pathExists diskSizeOption;
  timeout = config.boot.loader.timeout;
  efiArch = "x64";

  bootloader =
    if config.boot.loader.systemd-boot.enable or false then
      {
        type = "systemd-boot";
        efiBinary = "${config.systemd.package}/lib/systemd/boot/efi/systemd-boot${efiArch}.efi";
        inherit timeout;
      }
    else
      {
        type = "grub-efi";
        package = "${config.boot.loader.grub.efiPackage}";
        inherit timeout;
      };

  plan = {
    version = 1;
    inherit (cfg) format additionalSpace;
    toplevel = "${config.system.build.toplevel}";
    diskSize = config.virtualisation.diskSize;
    partitionTable = layouts.${cfg.partitionTableType};
    inherit bootloader;
    output = {
      inherit (cfg) container fileName;
    };
  };
in
{
  imports = lib.optional hasDiskSizeOption diskSizeOption;

  options = {
    nixos-generate = {
      format = lib.mkOption {
        type = lib.types.str;
        description = "Name of the image format (as in nixos-generate --list).";
      };
      container = lib.mkOption {
        type = lib.types.enum [
          "raw"
          "qcow2"
        ];
        description = "Container the disk is written in.";
      };
      fileName = lib.mkOption {
        type = lib.types.str;
        description = "File name of the image inside the output directory.";
      };
      partitionTableType = lib.mkOption {
        type = lib.types.enum [ "efi" ];
        default = "efi";
        description = "Partition layout, named as make-disk-image names them.";
      };
      additionalSpace = lib.mkOption {
        type = lib.types.int;
        default = 512;
        description = "MiB of free space left in the root filesystem when the disk size is auto.";
      };
    };
  }
  // lib.optionalAttrs (!hasDiskSizeOption) {
    virtualisation.diskSize = lib.mkOption {
      type = lib.types.either (lib.types.enum [ "auto" ]) lib.types.ints.positive;
      default = "auto";
      description = "Disk size in MiB, or \"auto\" to size the disk from the closure.";
    };
  };

  config.system.build.imagePlan = pkgs.writeText "image-plan.json" (builtins.toJSON plan);
}
