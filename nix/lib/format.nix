# Makes a format module: it imports the nixpkgs module nixos-generators imports for
# the format when nixpkgs has it (so the system configuration is the same), and sets
# the essentials of that module itself when it does not (older nixpkgs, or the test
# stand-in). `essentials` and `settings` are modules' config, as attrsets or functions
# of the module arguments.
{
  upstream ? null,
  essentials ? { },
  settings,
}:
# NixOS passes a module only the arguments it names (pkgs included), so every argument
# the format modules use is named here and handed on in `args`.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}@args:
let
  path = "${toString modulesPath}/${upstream}";
  hasUpstream = upstream != null && builtins.pathExists path;
  apply = value: if builtins.isFunction value then value args else value;
in
{
  imports = [ ./image-plan.nix ] ++ lib.optional hasUpstream path;
  config = lib.mkMerge [
    (lib.mkIf (!hasUpstream) (apply essentials))
    (apply settings)
  ];
}
