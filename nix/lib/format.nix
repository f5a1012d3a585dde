# Makes a format module that, as nixos-generators does, imports the nixpkgs module
# of the format (by its path under modulesPath) and adds the plan's settings.
# `settings` is a module's config, as an attribute set or a function of the module
# arguments.
{
  upstream ? null,
  settings,
}:
# NixOS passes a module only the arguments it names, so every argument the format
# modules use is named here and handed on in `args`.
{
  config,
  lib,
  pkgs,
  options,
  modulesPath,
  ...
}@args:
{
  imports = [ ./image-plan.nix ] ++ lib.optional (upstream != null) "${toString modulesPath}/${upstream}";
  config = if builtins.isFunction settings then settings args else settings;
}
