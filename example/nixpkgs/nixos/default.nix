# `import <nixpkgs/nixos> { configuration = ...; }` of the stand-in.
{ configuration ? <nixos-config>, system ? "x86_64-linux" }:
let
  eval = import ./lib/eval-config.nix { inherit system; modules = [ configuration ]; };
in
{
  inherit (eval) config options pkgs extendModules;
  system = eval.config.system.build.toplevel;
}
