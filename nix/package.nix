# nixos-generate as a Nix package, with nixpkgs' npm packaging: buildNpmPackage over this
# repository, its dependencies from package-lock.json through importNpmLock (no hash to
# keep in step), `tsc` as the build. The flake's packages.<system>.default.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs_24 ? null,
  nodejs_22 ? null,
}:
let
  root = ../.;
  # What the build reads: the sources, the Nix modules, the bundled configuration and the
  # npm files (not node_modules, dist, the tests or the example's packages).
  kept = [ "package.json" "package-lock.json" "tsconfig.json" "configuration.nix" "src" "nix" ];
  src = builtins.path {
    name = "nixos-generate-source";
    path = root;
    filter = path: type:
      let relative = lib.removePrefix (toString root + "/") (toString path);
      in builtins.any (k: relative == k || lib.hasPrefix "${k}/" relative) kept;
  };
  manifest = builtins.fromJSON (builtins.readFile ../package.json);
in
buildNpmPackage {
  pname = "nixos-generate";
  inherit (manifest) version;
  inherit src;
  npmDeps = importNpmLock { npmRoot = src; };
  npmConfigHook = importNpmLock.npmConfigHook;
  # package.json's engines: Node 22.20+ or 24.12+.
  nodejs = if nodejs_24 != null then nodejs_24 else nodejs_22;
  meta = {
    description = manifest.description;
    license = lib.licenses.mit or "MIT";
    mainProgram = "nixos-generate";
  };
}
