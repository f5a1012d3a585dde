# Imitates nixos/modules/tasks/filesystems.nix: fileSystems by mount point (the stand-in's
# type is looser: attributes of any value). The root filesystem assertion is stage 1's.
{ lib, ... }:
{
  options.fileSystems = lib.mkOption {
    type = lib.types.attrsOf lib.types.anything;
    default = { };
    description = "Filesystems by mount point: { device; fsType; label; options; ... } (recorded; stage 1 uses the root's and the ESP's labels).";
  };
}
