# nixosModules.all-formats, as nixos-generators' all-formats.nix: inside a NixOS
# configuration, config.formats.<name> is the image of every format (each evaluated with
# extendModules, adding the format's module and formatConfigs.<name>), as a derivation.
formatModules:
{ config, lib, extendModules, ... }:
{
  options.formats = lib.mkOption {
    type = lib.types.lazyAttrsOf lib.types.raw;
    description = "The image of each format, as a derivation.";
  };
  options.formatConfigs = lib.mkOption {
    type = lib.types.attrsOf lib.types.deferredModule;
    default = { };
    description = "Extra configuration per format (a module), applied only to that format's image.";
  };

  # A formatConfigs entry with a new name is a format of its own (it imports one of
  # nixosModules.<format> and renames it, as the README shows).
  config.formats = lib.mapAttrs (name: module:
    (extendModules { modules = [ module (config.formatConfigs.${name} or { }) ]; }).config.system.build.nixosGenerateImage
  ) (formatModules // lib.mapAttrs (_: _: { }) (removeAttrs config.formatConfigs (builtins.attrNames formatModules)));
}
