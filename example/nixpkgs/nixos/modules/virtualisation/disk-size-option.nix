# virtualisation.diskSize, as image modules declare it: "auto" or MiB.
{ config, lib, ... }:
{
  options.virtualisation.diskSizeAutoSupported = lib.mkOption {
    type = lib.types.bool;
    default = true;
    description = "Whether the image builder can compute the size (\"auto\").";
  };
  options.virtualisation.diskSize = lib.mkOption {
    type = lib.types.either (lib.types.enum [ "auto" ]) lib.types.ints.positive;
    default = if config.virtualisation.diskSizeAutoSupported then "auto" else 1024;
    description = "The disk size in MiB, or \"auto\".";
  };
}
