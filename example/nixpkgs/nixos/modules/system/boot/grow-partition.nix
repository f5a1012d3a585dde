{ lib, ... }:
{
  options.boot.growPartition = lib.mkEnableOption "growing the root partition on boot (recorded; the example's stage 1 does not grow anything)";
}
