# Imitates nixos/modules/installer/sd-card/sd-image.nix (NixOS 25.05): the sdImage
# options with NixOS's names, types and defaults, the filesystems by label, the image.*
# names (the file under sd-image/, image.filePath "sd-card/..." as 25.05 has it), the
# "sd-card" tag, and the first-boot commands.
# Left out: system.build.sdImage/image (the stand-in cannot run mkfs; nixos-generate
# writes the image), hardware.enableAllHardware (the stand-in's kernel keeps a selection
# of modules), the renamed sdImage.imageName/imageBaseName options. The first-boot
# commands keep what busybox can do: NixOS's grow the root partition (sfdisk, partprobe,
# resize2fs), load /nix-path-registration (nix-store --load-db) and set the system profile.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.sdImage;
in
{
  imports = [ ../../image/file-options.nix ];

  options.sdImage = {
    storePaths = mkOption { type = types.listOf types.package; description = "Derivations whose closure is copied into the root filesystem."; };
    firmwarePartitionOffset = mkOption { type = types.int; default = 8; description = "MiB before the firmware partition (room for a boot loader some boards read from the gap)."; };
    firmwarePartitionID = mkOption { type = types.str; default = "0x2178694e"; description = "Volume ID of the firmware partition, also the disk's MBR id."; };
    firmwarePartitionName = mkOption { type = types.str; default = "FIRMWARE"; description = "Label of the firmware partition."; };
    rootPartitionUUID = mkOption { type = types.nullOr types.str; default = null; example = "14e19a7b-0ae0-484d-9d54-43bd6fdc20c7"; description = "UUID of the root filesystem (null: make-ext4-fs's 44444444-4444-4444-8888-888888888888)."; };
    firmwareSize = mkOption { type = types.int; default = 30; description = "Size of the firmware partition in MiB."; };
    populateFirmwareCommands = mkOption { example = lib.literalExpression "'' cp \${pkgs.myBootLoader}/u-boot.bin firmware/ ''"; description = "Shell commands that put the firmware partition's files into ./firmware."; };
    populateRootCommands = mkOption { example = lib.literalExpression "''\${config.boot.loader.generic-extlinux-compatible.populateCmd} -c \${config.system.build.toplevel} -d ./files/boot''"; description = "Shell commands that put files for the root filesystem into ./files."; };
    postBuildCommands = mkOption { default = ""; description = "Shell commands run after the image is built ($img is its path)."; };
    compressImage = mkOption { type = types.bool; default = true; description = "Whether the image is compressed with zstd."; };
    expandOnBoot = mkOption { type = types.bool; default = true; description = "Whether the root partition and filesystem grow to fill the card on first boot."; };
    nixPathRegistrationFile = mkOption { type = types.str; default = "/nix-path-registration"; description = "Where the closure's registration is put, loaded into the Nix database on first boot."; };
  };

  config = {
    fileSystems = {
      "/boot/firmware" = {
        device = "/dev/disk/by-label/${cfg.firmwarePartitionName}";
        fsType = "vfat";
        options = [ "nofail" "noauto" ];
      };
      "/" = {
        device = "/dev/disk/by-label/NIXOS_SD";
        fsType = "ext4";
      };
    };

    sdImage.storePaths = [ config.system.build.toplevel ];

    image.extension = if cfg.compressImage then "img.zst" else "img";
    image.filePath = "sd-card/${config.image.fileName}";
    system.nixos.tags = [ "sd-card" ];

    # NixOS grows the root here (sfdisk, partprobe, resize2fs when expandOnBoot) and loads
    # the registration (nix-store --load-db); busybox has none of those tools.
    boot.postBootCommands = ''
      if [ -f ${cfg.nixPathRegistrationFile} ]; then
        mkdir -p /etc && touch /etc/NIXOS
      fi
    '';
  };
}
