# nixosGenerate, with nixos-generators' arguments and meaning: the configuration's
# modules evaluated with the format's module (nixpkgs' lib.nixosSystem, or the one given),
# for `system` or for `pkgs`' platform; the result is the image as a derivation.
{ nixpkgs, formatModules }:
{
  pkgs ? null,
  lib ? nixpkgs.lib,
  nixosSystem ? nixpkgs.lib.nixosSystem,
  format,
  system ? null,
  specialArgs ? { },
  modules ? [ ],
  customFormats ? { },
}:
let
  all = formatModules // customFormats;
  formatModule = all.${format} or (throw "nixosGenerate: unknown format \"${format}\"; formats: ${builtins.concatStringsSep ", " (builtins.attrNames all)}");
  evaluated = nixosSystem ({
    inherit specialArgs;
    system = if system != null then system else pkgs.stdenv.hostPlatform.system;
    modules = [ formatModule ] ++ modules;
  } // (if pkgs != null then { inherit pkgs; } else { }));
in
evaluated.config.system.build.nixosGenerateImage
