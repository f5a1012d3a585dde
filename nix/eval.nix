# Entry point the nixos-generate CLI builds with nix-build: evaluates a NixOS
# configuration (a file, or a flake's nixosConfigurations.<attr>) together with a
# format module and exposes the image plan. Building `plan` builds the system
# (the toplevel) and the bootloader package the plan names; Nix never builds the image.
{
  nixpkgs ? <nixpkgs>,
  configuration ? null,
  formatModule,
  system ? null,
  diskSize ? null,
  flakeUri ? null,
  flakeAttr ? null,
  specialArgsJSON ? "{}",
}:
let
  specialArgs = builtins.fromJSON specialArgsJSON;
  # Without --disk-size: "auto" below a value the configuration sets (even with
  # mkDefault, 1000) and above the image modules' own defaults (mkOverride 1490).
  # With --disk-size: the command line wins (mkForce).
  diskSizeModule =
    { lib, ... }:
    {
      _file = "nixos-generate (--disk-size)";
      virtualisation.diskSize =
        if diskSize == null then lib.mkOverride 1100 "auto" else lib.mkForce diskSize;
    };
  # The writers run on this machine, whatever platform the system is for.
  buildPlatformModule = {
    _file = "nixos-generate (the machine writing the image)";
    nixos-generate.buildPlatform = builtins.currentSystem;
  };
  extraModules = [
    formatModule
    diskSizeModule
    buildPlatformModule
  ];
  targetSystem = if system == null then builtins.currentSystem else system;

  fromFlake =
    let
      flake = builtins.getFlake flakeUri;
      configurations =
        flake.outputs.packages.${targetSystem}.nixosConfigurations or flake.outputs.nixosConfigurations or { };
    in
    if configurations ? ${flakeAttr} then
      configurations.${flakeAttr}.extendModules {
        modules = extraModules;
        inherit specialArgs;
      }
    else
      throw "nixos-generate: the flake ${flakeUri} has no nixosConfigurations.${flakeAttr}";

  fromFile = import "${toString nixpkgs}/nixos/lib/eval-config.nix" (
    {
      modules = extraModules ++ [ configuration ];
      inherit specialArgs;
    }
    // (if system == null then { } else { inherit system; })
  );

  evaluated = if flakeUri != null then fromFlake else fromFile;
  build = evaluated.config.system.build;
in
{
  plan =
    build.imagePlan
      or (throw "nixos-generate: the format module does not define system.build.imagePlan; custom formats must import nix/lib/image-plan.nix from nixos-generate");
  toplevel = build.toplevel;
  # The evaluated configuration, for inspecting what a format made of it.
  inherit (evaluated) config;
}
