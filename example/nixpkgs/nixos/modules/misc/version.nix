# Imitates nixos/modules/misc/version.nix and label.nix: system.nixos.* and
# system.stateVersion (the stand-in's release is 25.05; version 25.05pre-example).
{ config, lib, ... }:
let
  cfg = config.system.nixos;
  inherit (lib) mkOption types;
in
{
  options.system.nixos = {
    release = mkOption { type = types.str; default = "25.05"; description = "The NixOS release the stand-in imitates."; };
    codeName = mkOption { type = types.str; default = "Example"; description = "The release code name."; };
    versionSuffix = mkOption { type = types.str; default = "pre-example"; description = "Appended to the release to form the version."; };
    version = mkOption { type = types.str; default = cfg.release + cfg.versionSuffix; description = "The full version."; };
    distroName = mkOption { type = types.str; default = "NixOS"; description = "The distribution's name."; };
    distroId = mkOption { type = types.str; default = "nixos"; description = "The distribution's identifier."; };
    tags = mkOption { type = types.listOf types.str; default = [ ]; description = "Words prepended (sorted) to the version to form the label."; };
    label = mkOption {
      type = types.strMatching "[a-zA-Z0-9:_\\.-]*";
      default = lib.concatStringsSep "-" (builtins.sort (a: b: a < b) cfg.tags ++ [ cfg.version ]);
      description = "The system's label: part of the toplevel's name and of boot menu entries.";
    };
  };
  options.system.stateVersion = mkOption {
    type = types.str;
    default = cfg.release;
    description = "The release the system's state was first created with.";
  };
}
