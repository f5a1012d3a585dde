# Shared by the sd-card format modules: reads what nixpkgs' installer/sd-card/sd-image.nix
# and generic-extlinux-compatible declare and exports system.build.imagePlan as a disk plan
# (docs/image-plan.md): an MBR disk with the FIRMWARE partition, filled with the files
# sdImage.populateFirmwareCommands puts in ./firmware (run by Nix on the build machine, as
# sd-image.nix runs them), and the bootable root ext4 holding the closure, the closure's
# registration and /boot/extlinux (written by the writers from the bootspec, as
# populateRootCommands' extlinux builder would). Settings the writers cannot honour stop the
# build with one line (common.nix planOrRefusal).
#
# Everything read from NixOS here is listed, per release, in docs/nixos-compat.md.
{
  config,
  options,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixos-generate;
  sd = config.sdImage;
  hostPlatform = pkgs.stdenv.hostPlatform;
  mib = 1024 * 1024;

  # populateFirmwareCommands run by the build machine's shell: they only copy files.
  buildPkgs = (import ./common.nix).buildPackages pkgs cfg.buildPlatform;
  firmware = buildPkgs.runCommand "sd-image-firmware" { } ''
    cd "$NIX_BUILD_TOP"
    mkdir firmware
    ${sd.populateFirmwareCommands}
    cp -R firmware "$out"
  '';

  # "0x2178694e": the MBR disk id and the FAT volume id, as sd-image.nix uses it for both.
  hexId = lib.toUpper (lib.removePrefix "0x" (lib.toLower sd.firmwarePartitionID));
  # NixOS 25.11 made the root's label an option; before it is "NIXOS_SD".
  rootLabel = sd.rootVolumeLabel or "NIXOS_SD";
  # make-ext4-fs.nix's UUID when sdImage.rootPartitionUUID is null.
  rootUuid = if sd.rootPartitionUUID == null then "44444444-4444-4444-8888-888888888888" else sd.rootPartitionUUID;
  # The file sd-image.nix writes: sd-image/<image.baseName>.img (NixOS 25.05 and later;
  # 24.11 names it sdImage.imageName), .zst when compressed.
  imageName = if config ? image then "${config.image.baseName}.img" else sd.imageName;
  fileName = "sd-image/${imageName}${lib.optionalString sd.compressImage ".zst"}";

  # sd-image*.nix's own populateRootCommands run the extlinux builder, whose result the
  # writers produce from the bootspec; anything else cannot be.
  fromSdModule = d: lib.hasSuffix "installer/sd-card/sd-image-aarch64.nix" d.file || lib.hasSuffix "installer/sd-card/sd-image-x86_64.nix" d.file;
  rootCommandsChanged = !lib.all fromSdModule options.sdImage.populateRootCommands.definitionsWithLocations;
  rootCreatorChanged = (options.sdImage.rootFilesystemCreator.definitionsWithLocations or [ ]) != [ ];

  refusals =
    lib.optional (config.virtualisation.diskSize != "auto") {
      option = "virtualisation.diskSize";
      value = config.virtualisation.diskSize;
      hint = "an sd-card image is as large as its contents (the root grows to fill the card on first boot); leave out --disk-size";
    }
    ++ lib.optional (!config.boot.loader.generic-extlinux-compatible.enable) {
      option = "boot.loader.generic-extlinux-compatible.enable";
      value = false;
      hint = "the sd-card image boots through U-Boot's extlinux support; keep it enabled";
    }
    ++ lib.optional rootCommandsChanged {
      option = "sdImage.populateRootCommands";
      value = "(changed)";
      hint = "nixos-generate writes /boot/extlinux from the bootspec as sd-image's own commands do; add files to the system instead (environment.etc, system.extraDependencies)";
    }
    ++ lib.optional (sd.postBuildCommands != "") {
      option = "sdImage.postBuildCommands";
      value = sd.postBuildCommands;
      hint = "nixos-generate runs no shell commands on the image; apply them to the written file afterwards";
    }
    ++ lib.optional ((sd.preBuildCommands or "") != "") {
      option = "sdImage.preBuildCommands";
      value = sd.preBuildCommands;
      hint = "nixos-generate runs no shell commands on the image; remove the setting";
    }
    ++ lib.optional rootCreatorChanged {
      option = "sdImage.rootFilesystemCreator";
      value = "(changed)";
      hint = "nixos-generate writes the root ext4 itself; remove the setting";
    }
    ++ lib.optional (sd.storePaths != [ config.system.build.toplevel ]) {
      option = "sdImage.storePaths";
      value = map toString sd.storePaths;
      hint = "nixos-generate puts the system's closure on the card; add packages to environment.systemPackages or system.extraDependencies instead";
    };

  plan = {
    version = 1;
    inherit (cfg) format;
    toplevel = "${config.system.build.toplevel}";
    diskSize = "auto";
    # make-ext4-fs.nix shrinks the root to its minimum and adds 16 MiB.
    additionalSpace = 16;
    partitionTable = {
      type = "mbr";
      diskSignature = hexId;
      partitions = [
        {
          name = sd.firmwarePartitionName;
          type = "fat32";
          start = sd.firmwarePartitionOffset * mib;
          size = sd.firmwareSize * mib;
          bootable = false;
          filesystem = {
            type = "vfat";
            label = sd.firmwarePartitionName;
            volumeId = "${builtins.substring 0 4 hexId}-${builtins.substring 4 4 hexId}";
            contents = "firmware";
            source = "${firmware}";
          };
        }
        # U-Boot reads extlinux.conf from the bootable partition: the root.
        {
          name = rootLabel;
          type = "linux";
          start = (sd.firmwarePartitionOffset + sd.firmwareSize) * mib;
          size = "auto";
          bootable = true;
          filesystem = {
            type = "ext4";
            label = rootLabel;
            uuid = lib.toUpper rootUuid;
            contents = "root";
            registrationFile = sd.nixPathRegistrationFile;
          };
        }
      ];
    };
    bootloader = {
      type = "extlinux";
      inherit (config.boot.loader) timeout;
      inherit (config.boot.loader.generic-extlinux-compatible) useGenerationDeviceTree;
      deviceTreeName = config.hardware.deviceTree.name;
    };
    output = {
      container = "raw";
      inherit fileName;
      compression = if sd.compressImage then "zstd" else "none";
    };
  };
in
{
  imports = [ ./plan-options.nix ];

  config.system.build.imagePlan = (import ./common.nix).planOrRefusal pkgs cfg.format refusals plan;
}
