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
  grub = config.boot.loader.grub;
  timeout = config.boot.loader.timeout;

  # GRUB for BIOS when it is given a device (anything but "nodev"), as NixOS installs it.
  grubDevices = (grub.devices or [ ]) ++ lib.optional ((grub.device or "") != "") grub.device;
  grubBios = lib.any (d: d != "nodev") grubDevices;

  bootloader =
    if config.boot.loader.systemd-boot.enable or false then
      {
        type = "systemd-boot";
        efiBinary = "${config.systemd.package}/lib/systemd/boot/efi/systemd-bootx64.efi";
        inherit timeout;
      }
    else
      {
        type = "grub";
        bios = if grubBios then { package = "${grub.package}"; } else null;
        efi = if grub.efiSupport or false then { package = "${grub.efiPackage}"; } else null;
        inherit timeout;
      };

  plan = {
    version = 1;
    inherit (cfg) format additionalSpace;
    toplevel = "${config.system.build.toplevel}";
    diskSize = config.virtualisation.diskSize;
    partitionTable = layouts.${cfg.partitionTableType};
    inherit bootloader;
    output = cfg.output;
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
      partitionTableType = lib.mkOption {
        type = lib.types.enum [
          "legacy"
          "legacy+gpt"
          "efi"
          "hybrid"
          "none"
        ];
        description = "Partition layout, named as make-disk-image names them.";
      };
      additionalSpace = lib.mkOption {
        type = lib.types.int;
        default = 512;
        description = "MiB of free space left in the root filesystem when the disk size is auto.";
      };
      output = lib.mkOption {
        type = lib.types.attrs;
        description = "The plan's output: container, fileName, compression and the container's settings (docs/image-plan.md).";
      };
      baseName = lib.mkOption {
        type = lib.types.str;
        readOnly = true;
        default =
          config.image.baseName
            or "nixos-image-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
        description = "nixpkgs' image.baseName, for file names (read-only).";
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
