# Imitates nixos/modules/image/file-options.nix (new in NixOS 25.05): the
# image.* options naming an image file. image.extension has no default: every
# image module sets it. image.fileName is writable, as in NixOS (upstream means
# to make it read-only once no renamed option points at it). Nothing is left
# out.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.image;
in
{
  options.image = {
    baseName = mkOption {
      type = types.str;
      default = "nixos-image-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
      defaultText = lib.literalExpression ''"nixos-image-''${config.system.nixos.label}-''${pkgs.stdenv.hostPlatform.system}"'';
      description = "File name of the image without any extension.";
    };
    extension = mkOption {
      type = types.str;
      description = "Extension(s) of the image's file name, without the leading dot (e.g. `qcow2` or `raw.tar.gz`).";
    };
    fileName = mkOption {
      type = types.str;
      default = "${cfg.baseName}.${cfg.extension}";
      defaultText = lib.literalExpression ''"''${config.image.baseName}.''${config.image.extension}"'';
      description = "File name of the image with its extension(s).";
    };
    filePath = mkOption {
      type = types.str;
      default = cfg.fileName;
      defaultText = lib.literalExpression "config.image.fileName";
      description = "Where the image is, relative to the output of system.build.image (the file name itself unless the builder puts it in a subdirectory).";
    };
  };
}
