# The image as a Nix build: the writers run inside a derivation of the build machine
# (`nixos-generate --plan --registration`), reading the plan and the closure of its
# store paths (the system, the bootloader packages) from closureInfo; no VM, no KVM. The
# output holds the image as the CLI names it, its SHA256SUMS and
# nix-support/hydra-build-products. SOURCE_DATE_EPOCH is the CLI's default, so the bytes
# are the CLI's for the same plan. With nixos-generate.cacheDirectory the writer uses
# that directory as its --cache (docs/flake.md); the bytes stay the same.
{
  config,
  lib,
  pkgs,
}:
let
  cfg = config.nixos-generate;
  buildPkgs = (import ./common.nix).buildPackages pkgs cfg.buildPlatform;
  plan = config.system.build.imagePlan;
  closure = buildPkgs.closureInfo { rootPaths = [ plan ]; };
  writer =
    if cfg.package != null then cfg.package
    else throw "nixos-generate: set nixos-generate.package (the flake's nixosModules set it) to build the image as a derivation";
  cache = lib.optionalString (cfg.cacheDirectory != null) " --cache ${lib.escapeShellArg cfg.cacheDirectory}";
in
buildPkgs.runCommand "nixos-image-${cfg.format}-${config.system.nixos.label}" {
  inherit plan;
  registration = "${closure}/registration";
  SOURCE_DATE_EPOCH = "1";
  passthru = { inherit plan; };
} ''
  image="$(${writer}/bin/nixos-generate --plan "$plan" --registration "$registration" -o "$out"${cache})"
  mkdir -p "$out/nix-support"
  echo "file ${cfg.format} $image" >"$out/nix-support/hydra-build-products"
''
