# Shared by the container format modules: reads the make-system-tarball derivation a
# nixpkgs module defines (system.build.<nixos-generate.tarballAttribute>: its sources,
# targets, objects, symlinks, extraCommands, extraArgs, compressCommand, fileName and
# extension) and exports system.build.imagePlan as a tarball plan (docs/image-plan.md).
# Nix builds the system, never the tarball. Settings the writer cannot honour stop the
# build with one line (common.nix planOrRefusal).
#
# Everything read from NixOS here is listed, per release, in docs/nixos-compat.md.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixos-generate;
  attribute = cfg.tarballAttribute;
  tarball = config.system.build.${attribute};
  where = "system.build.${attribute}";

  # extraCommands: a command string, or a script (docker-container.nix's writeScript).
  commandsText =
    let
      value = tarball.extraCommands;
    in
    if builtins.isString value then value else value.text or null;
  trim = text: let m = builtins.match "[[:space:]]*(.*[^[:space:]])?[[:space:]]*" text; in if m == null || builtins.head m == null then "" else builtins.head m;
  lines = lib.filter (l: l != "" && builtins.substring 0 1 l != "#") (
    map trim (lib.splitString "\n" (if commandsText == null then "" else commandsText))
  );
  words = line: lib.filter (w: w != "") (lib.splitString " " line);
  readLine =
    line:
    let
      w = words line;
    in
    if builtins.length w == 2 && builtins.head w == "rm" then
      [ { op = "rm"; path = builtins.elemAt w 1; } ]
    else if builtins.length w >= 3 && builtins.head w == "mkdir" && builtins.elemAt w 1 == "-p" then
      map (path: { op = "mkdir"; inherit path; }) (lib.drop 2 w)
    else
      null;
  readLines = map readLine lines;
  unreadLines = lib.filter (pair: pair.read == null) (lib.zipListsWith (line: read: { inherit line read; }) lines readLines);
  plainPath = path: builtins.match "[^/].*" path != null && !(builtins.elem ".." (lib.splitString "/" path));
  commands = lib.concatLists (lib.filter (r: r != null) readLines);

  extraArgs = words tarball.extraArgs;
  archive = import ./system-tarball.nix lib { inherit tarball where; storePath = object: "${object}"; };

  contents = lib.zipListsWith (source: target: {
    source = "${source}";
    inherit target;
  }) tarball.sources tarball.targets;

  refusals =
    lib.optional (config.virtualisation.diskSize != "auto") {
      option = "virtualisation.diskSize";
      value = config.virtualisation.diskSize;
      hint = "a tarball is as large as its contents; leave out --disk-size";
    }
    ++ map (pair: {
      option = "${where}.extraCommands";
      value = pair.line;
      hint = "nixos-generate reads the lines \"rm <path>\" and \"mkdir -p <paths>\" there; build other layouts from contents";
    }) unreadLines
    ++ lib.optional (commandsText == null) {
      option = "${where}.extraCommands";
      value = toString tarball.extraCommands;
      hint = "nixos-generate reads a command string or a writeScript there";
    }
    ++ map (c: {
      option = "${where}.extraCommands";
      value = "${c.op} ${c.path}";
      hint = "paths there are relative to the tar root and stay inside it";
    }) (lib.filter (c: !(plainPath c.path)) commands)
    ++ lib.optional (lib.filter (a: a != "--owner=0") extraArgs != [ ]) {
      option = "${where}.extraArgs";
      value = tarball.extraArgs;
      hint = "nixos-generate writes every member owned by 0:0 and takes no other tar arguments";
    }
    ++ archive.compressionRefusals;

  plan = {
    version = 1;
    kind = "tarball";
    inherit (cfg) format;
    toplevel = "${config.system.build.toplevel}";
    tarball = {
      inherit contents commands;
      inherit (archive) symlinks;
      storePaths = map (o: "${o}") tarball.objects;
    };
    output = {
      container = "tar";
      inherit (archive) fileName;
      compression = "xz";
    };
  };
in
{
  imports = [ ./plan-options.nix ];

  options.nixos-generate = {
    tarballAttribute = lib.mkOption {
      type = lib.types.str;
      default = "tarball";
      description = "The system.build attribute holding the make-system-tarball derivation the format writes.";
    };
  };

  # A container has no boot loader: nixos-generators' container formats force both off.
  config.boot.loader.grub.enable = lib.mkForce false;
  config.boot.loader.systemd-boot.enable = lib.mkForce false;

  config.system.build.imagePlan = (import ./common.nix).planOrRefusal pkgs cfg.format refusals plan;
}
