# Partition layouts as nixpkgs' make-disk-image creates them, with its fixed
# identifiers (see src/formats/layouts.ts, which computes the same values; a test
# keeps them equal).
let
  mib = 1024 * 1024;
  sector = 512;
  ids = {
    diskGuid = "97FD5997-F390-0B4A-A3F8-D106C1723AEA";
    partition1Guid = "1C06F03B-704E-4657-B9CD-681A087A2FDC";
    partition2Guid = "970C694F-AFD0-4B99-B750-CDB7A329AB6F";
    rootGuid = "F222513B-DED1-49FA-B591-20CE86A2FE7F";
    rootFsUuid = "F222513B-DED1-49FA-B591-20CE86A2FE7F";
  };
  upper = builtins.replaceStrings
    [ "a" "b" "c" "d" "e" "f" ]
    [ "A" "B" "C" "D" "E" "F" ];
  firstHex = text: digits: upper (builtins.substring 0 digits (builtins.hashString "sha256" text));
  # The ESP's FAT volume ID: sha256("<disk GUID>:ESP"), first 8 hex digits, as XXXX-XXXX.
  espVolumeId =
    diskGuid:
    let
      hex = firstHex "${diskGuid}:ESP" 8;
    in
    "${builtins.substring 0 4 hex}-${builtins.substring 4 4 hex}";
  # The MBR disk signature (random in nixpkgs): sha256("<disk GUID>:MBR"), first 8 hex digits.
  mbrSignature = diskGuid: firstHex "${diskGuid}:MBR" 8;

  rootFs = {
    type = "ext4";
    label = "nixos";
    uuid = ids.rootFsUuid;
    contents = "root";
  };
  esp = {
    type = "vfat";
    label = "ESP";
    volumeId = espVolumeId ids.diskGuid;
    contents = "boot";
  };
  # make-disk-image's root: "primary", from `start` to 1 MiB before the end of the disk.
  rootPartition = guid: start: {
    name = "primary";
    type = "linux";
    inherit guid start;
    size = "auto";
    filesystem = rootFs;
  };
  biosBootPartition = guid: start: size: {
    name = "no-fs";
    type = "bios-boot";
    inherit guid start size;
    filesystem = null;
  };
  espPartition = {
    name = "ESP";
    type = "esp";
    guid = ids.partition1Guid;
    start = 8 * mib;
    size = 249 * mib; # bootSize 256M, rounded up to end at 257 MiB
    filesystem = esp;
  };
  # A layout whose root filesystem has another label (azure's virtualisation.azureImage.label).
  withRootLabel =
    label: table:
    let
      relabel = fs: if fs != null && fs.contents == "root" then fs // { inherit label; } else fs;
    in
    if table.type == "none" then
      table // { filesystem = relabel table.filesystem; }
    else
      table // { partitions = map (p: p // { filesystem = relabel p.filesystem; }) table.partitions; };
in
{
  inherit ids espVolumeId mbrSignature withRootLabel;

  legacy = {
    type = "mbr";
    diskSignature = mbrSignature ids.diskGuid;
    partitions = [
      {
        name = "primary";
        type = "linux";
        start = mib;
        size = "auto";
        bootable = false;
        filesystem = rootFs;
      }
    ];
  };

  "legacy+gpt" = {
    type = "gpt";
    inherit (ids) diskGuid;
    partitions = [
      (biosBootPartition ids.partition1Guid mib mib)
      (rootPartition ids.partition2Guid (2 * mib))
    ];
  };

  efi = {
    type = "gpt";
    inherit (ids) diskGuid;
    partitions = [
      espPartition
      (rootPartition ids.rootGuid (257 * mib))
    ];
  };

  hybrid = {
    type = "gpt";
    inherit (ids) diskGuid;
    partitions = [
      espPartition
      (biosBootPartition ids.partition2Guid (34 * sector) ((2048 - 34 + 1) * sector))
      (rootPartition ids.rootGuid (257 * mib))
    ];
  };

  none = {
    type = "none";
    filesystem = rootFs;
  };
}
