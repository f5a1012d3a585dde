# The example system's toplevel, built with the stand-in nixpkgs next to
# this file:  nix-build system.nix --argstr hostName NAME
# The result is config.system.build.toplevel, with the evaluation attached
# (config, options, pkgs, extendModules), e.g.
#   nix-instantiate --eval system.nix -A config.networking.hostName
{ hostName ? "example" }:
let
  eval = import ./nixpkgs/nixos/lib/eval-config.nix {
    system = "x86_64-linux";
    modules = [
      ./configuration.nix
      { _file = "example/system.nix (the hostName argument)"; networking.hostName = hostName; }
    ];
  };
in
eval.config.system.build.toplevel // {
  inherit (eval) config options pkgs extendModules;
}
