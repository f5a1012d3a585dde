# Imitates nixos/lib/eval-config.nix (NixOS 24.11 to unstable): the same
# arguments and defaults (system = builtins.currentSystem, set at mkDefault
# priority as nixpkgs.system; null leaves the platform to nixpkgs.hostPlatform),
# modulesPath a string, and a result with config, options, pkgs, lib and an
# extendModules that returns the same shape.
#
#   import <nixpkgs/nixos/lib/eval-config.nix> { modules = [ ... ]; }
{ system ? builtins.currentSystem
, pkgs ? null
, baseModules ? import ../modules/module-list.nix
, extraModules ? [ ]
, modules
, specialArgs ? { }
, prefix ? [ ]
, lib ? import ../../lib
, check ? true
, extraArgs ? { }
, modulesLocation ? null
}:
let
  pkgsModule = {
    _file = toString ./eval-config.nix;
    key = toString ./eval-config.nix;
    config = lib.mkMerge [
      (lib.mkIf (system != null) { nixpkgs.system = lib.mkDefault system; })
      (lib.mkIf (pkgs != null) { nixpkgs.pkgs = pkgs; })
      { _module.args = extraArgs; }
    ];
  };

  withExtraAttrs = eval: {
    _type = "configuration";
    class = "nixos";
    inherit (eval) config options type _module;
    inherit lib;
    pkgs = eval._module.args.pkgs;
    extendModules = args: withExtraAttrs (eval.extendModules args);
  };
in
withExtraAttrs (lib.evalModules {
  modules = baseModules ++ extraModules ++ [ pkgsModule ] ++ modules;
  specialArgs = { modulesPath = toString ../modules; } // specialArgs;
  inherit prefix;
  class = "nixos";
})
