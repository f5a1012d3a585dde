# Imitates nixos/modules/profiles/base.nix (NixOS 25.05): the host ID the
# installer's ZFS support wants.
# Left out, because the stand-in has none of them: the tools it installs
# (w3m, testdisk, parted, gptfdisk, cryptsetup, vim, ... as environment.systemPackages)
# and boot.supportedFilesystems (btrfs, cifs, f2fs, ntfs, vfat, xfs, zfs).
{ lib, ... }:
{
  networking.hostId = lib.mkDefault "8425e349";
}
