# `import <nixpkgs> { }` of the stand-in: the package set of ./pkgs.
{ system ? "x86_64-linux", ... }:
import ./pkgs { inherit system; }
