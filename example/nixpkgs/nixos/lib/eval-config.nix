# The stand-in's nixos/lib/eval-config.nix: evaluates NixOS-style modules
# with the stand-in's module system and package set.
#
#   import <nixpkgs/nixos/lib/eval-config.nix> { modules = [ ... ]; }
#     -> { config; options; pkgs; extendModules; ... }
{ system ? "x86_64-linux"
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
  hostSystem = if system == null then "x86_64-linux" else system;

  pkgsModule = {
    _file = toString ./eval-config.nix;
    key = "eval-config pkgs";
    config._module.args = extraArgs // {
      pkgs = if pkgs != null then pkgs else import ../../pkgs { system = hostSystem; };
    };
  };

  evalWith = modules': specialArgs':
    let
      eval = lib.evalModules {
        modules = baseModules ++ extraModules ++ [ pkgsModule ] ++ modules';
        specialArgs = { modulesPath = ../modules; } // specialArgs';
        inherit prefix;
        class = "nixos";
      };
    in
    {
      _type = "configuration";
      class = "nixos";
      inherit (eval) config options type;
      inherit lib;
      _module = eval.config._module;
      pkgs = eval.config._module.args.pkgs;
      extendModules = { modules ? [ ], specialArgs ? { } }:
        evalWith (modules' ++ modules) (specialArgs' // specialArgs);
    };
in
evalWith modules specialArgs
