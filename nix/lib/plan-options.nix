# Shared by every plan module: the format's name, and virtualisation.diskSize ("auto" or
# MiB, which --disk-size sets), as nixos-generators imports it (NixOS 24.11 and later),
# so that a plan can honour or refuse it.
{ config, lib, pkgs, modulesPath, ... }:
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
  # The writer for images built as derivations (system.build.nixosGenerateImage); the
  # flake's nixosModules set it to its own package for the build platform.
  options.nixos-generate.package = lib.mkOption {
    type = lib.types.nullOr lib.types.package;
    default = null;
    description = "The nixos-generate package that writes the image inside a Nix build.";
  };

  # The unit cache for images built as derivations (docs/flake.md): a directory outside
  # the store that the sandbox shows (extra-sandbox-paths) and the build users can write.
  # The image is the same bytes with or without it; it only saves time.
  options.nixos-generate.cacheDirectory = lib.mkOption {
    type = lib.types.nullOr lib.types.str;
    default = null;
    example = "/var/cache/nixos-generate";
    description = "Directory the image derivation uses as nixos-generate's --cache (it must be in the builder's extra-sandbox-paths and writable by its build users).";
  };

  config.system.build.nixosGenerateImage = import ./image-derivation.nix { inherit config lib pkgs; };
}
