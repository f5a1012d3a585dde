# Shared by every plan module: the format's name, and virtualisation.diskSize ("auto" or
# MiB, which --disk-size sets), as nixos-generators imports it (NixOS 24.11 and later),
# so that a plan can honour or refuse it.
{ lib, modulesPath, ... }:
{
  imports = [ "${toString modulesPath}/virtualisation/disk-size-option.nix" ];

  options.nixos-generate.format = lib.mkOption {
    type = lib.types.str;
    description = "Name of the image format (as in nixos-generate --list).";
  };
}
