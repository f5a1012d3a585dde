# Partition layouts as nixpkgs' make-disk-image creates them, with its fixed
# identifiers (see src/formats/layouts.ts, which must compute the same values).
let
  mib = 1024 * 1024;
  ids = {
    diskGuid = "97FD5997-F390-0B4A-A3F8-D106C1723AEA";
    espGuid = "1C06F03B-704E-4657-B9CD-681A087A2FDC";
    rootGuid = "F222513B-DED1-49FA-B591-20CE86A2FE7F";
    rootFsUuid = "F222513B-DED1-49FA-B591-20CE86A2FE7F";
  };
  upper = builtins.replaceStrings
    [ "a" "b" "c" "d" "e" "f" ]
    [ "A" "B" "C" "D" "E" "F" ];
  # First 8 hex digits of sha256("<disk GUID>:ESP"), shown as XXXX-XXXX.
  espVolumeId =
    diskGuid:
    let
      hex = upper (builtins.substring 0 8 (builtins.hashString "sha256" "${diskGuid}:ESP"));
    in
    "${builtins.substring 0 4 hex}-${builtins.substring 4 4 hex}";
in
{
  inherit ids espVolumeId;

  # ESP from 8 MiB to 257 MiB (bootSize 256M rounded up), then the root labelled nixos.
  efi = {
    type = "gpt";
    inherit (ids) diskGuid;
    partitions = [
      {
        name = "ESP";
        type = "esp";
        guid = ids.espGuid;
        start = 8 * mib;
        size = 249 * mib;
        filesystem = {
          type = "vfat";
          label = "ESP";
          volumeId = espVolumeId ids.diskGuid;
          contents = "boot";
        };
      }
      {
        name = "primary";
        type = "linux";
        guid = ids.rootGuid;
        start = 257 * mib;
        size = "auto";
        filesystem = {
          type = "ext4";
          label = "nixos";
          uuid = ids.rootFsUuid;
          contents = "root";
        };
      }
    ];
  };
}
