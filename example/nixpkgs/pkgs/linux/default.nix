# The Debian kernel as a NixOS-shaped package.
{ lib, runCommand, debs, keepModules, kernelFile }:
let
  deb = debs.linux-image;
  modDirVersion = lib.removePrefix "linux-image-" deb.package;
in
runCommand "linux-${deb.upstreamVersion}${lib.optionalString (keepModules == null) "-full"}" {
  debFile = deb.file;
  inherit modDirVersion kernelFile;
  keepModules = if keepModules == null then "" else lib.concatStringsSep " " keepModules;
  keepAll = keepModules == null;
  closureScript = ./modules-closure.awk;
  passthru = {
    version = deb.upstreamVersion;
    inherit modDirVersion;
    debianPackage = deb.package;
    debianVersion = deb.version;
    inherit kernelFile;
    # Whether the package has dtbs/ (Debian's arm64 kernel ships the device trees).
    hasDtbs = kernelFile == "Image";
    kernelAtLeast = lib.versionAtLeast deb.upstreamVersion;
    kernelOlder = lib.versionOlder deb.upstreamVersion;
    modulesSelection = keepModules;
    features = { };
    config = { isYes = _: false; isModule = _: false; isEnabled = _: false; };
  };
} (builtins.readFile ./builder.sh)
