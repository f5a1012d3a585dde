# Shared by every plan module: the format's name, and virtualisation.diskSize ("auto" or
# MiB, which --disk-size sets), as nixos-generators imports it (NixOS 24.11 and later),
# so that a plan can honour or refuse it.
{ lib, pkgs, modulesPath, ... }:
{
  imports = [ "${toString modulesPath}/virtualisation/disk-size-option.nix" ];

  options.nixos-generate.format = lib.mkOption {
    type = lib.types.str;
    description = "Name of the image format (as in nixos-generate --list).";
  };
  # The platform of the machine that runs the writers (nix/eval.nix sets it to the
  # evaluating machine's): tools the writers run, such as grub-mkimage, come from it
  # when the system is for another platform.
  options.nixos-generate.buildPlatform = lib.mkOption {
    type = lib.types.str;
    default = pkgs.stdenv.buildPlatform.system;
    defaultText = lib.literalExpression "pkgs.stdenv.buildPlatform.system";
    description = "The Nix system of the machine that writes the image.";
  };
}
