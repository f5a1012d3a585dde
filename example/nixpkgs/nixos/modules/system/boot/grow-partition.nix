# Imitates nixos/modules/system/boot/grow-partition.nix: the option only (the
# example's stage 1 grows nothing).
{ lib, ... }:
{
  options.boot.growPartition = lib.mkEnableOption "growing the root partition on boot (recorded; the example's stage 1 does not grow anything)";
}
