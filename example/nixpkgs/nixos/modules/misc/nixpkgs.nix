# Imitates nixos/modules/misc/nixpkgs.nix: the platform options and the `pkgs`
# module argument built from them. nixpkgs.hostPlatform has no default; the
# legacy nixpkgs.system (set at mkDefault by eval-config.nix's `system`
# argument) is used when it is unset, as in NixOS. The stand-in's package set
# builds x86_64-linux only.
{ config, options, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.nixpkgs;
  opt = options.nixpkgs;
  hostPlatform =
    if opt.hostPlatform.isDefined then cfg.hostPlatform
    else lib.systems.elaborate cfg.localSystem;
in
{
  options.nixpkgs = {
    hostPlatform = mkOption {
      type = types.either types.str types.attrs;
      apply = lib.systems.elaborate;
      description = "The platform the system runs on, e.g. \"x86_64-linux\".";
    };
    buildPlatform = mkOption {
      type = types.either types.str types.attrs;
      default = cfg.hostPlatform;
      apply = lib.systems.elaborate;
      description = "The platform the system is built on.";
    };
    system = mkOption {
      type = types.str;
      default =
        if opt.hostPlatform.isDefined then throw "Neither nixpkgs.system nor any other option in nixpkgs.* is meant to be read by modules and configurations. Use pkgs.stdenv.hostPlatform instead."
        else throw "Neither nixpkgs.hostPlatform nor the legacy option nixpkgs.system has been set. You can set nixpkgs.hostPlatform in hardware-configuration.nix by re-running nixos-generate-config.";
      description = "The legacy way to set the platform (use nixpkgs.hostPlatform).";
    };
    localSystem = mkOption {
      type = types.attrs;
      default = { inherit (cfg) system; };
      description = "The legacy platform description (use nixpkgs.hostPlatform).";
    };
    pkgs = mkOption {
      type = types.raw;
      description = "A package set to use instead of importing nixpkgs (read-only).";
    };
    config = mkOption {
      type = types.anything;
      default = { };
      description = "The configuration of the Nix Packages collection (the stand-in ignores it).";
    };
    overlays = mkOption {
      type = types.listOf types.anything;
      default = [ ];
      description = "Overlays of the Nix Packages collection (the stand-in ignores them).";
    };
  };

  config._module.args.pkgs =
    if opt.pkgs.isDefined then cfg.pkgs
    else import ../../../pkgs { system = hostPlatform.system; };
}
