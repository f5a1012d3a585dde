# Imitates the boot.isContainer option of nixos/modules/virtualisation/nixos-containers.nix
# (the stand-in has no containers; GRUB's enable defaults to its negation, as in NixOS).
{ lib, ... }:
{
  options.boot.isContainer = lib.mkOption {
    type = lib.types.bool;
    default = false;
    description = "Whether this NixOS machine is a lightweight container running in another NixOS system.";
  };
}
