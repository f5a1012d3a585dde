# Imitates nixos/lib/make-system-tarball.nix (NixOS 24.11 and 25.05): the same
# arguments and defaults, and a derivation with the same attributes (sources,
# targets, objects, symlinks, extraCommands, extraArgs, compressCommand,
# fileName, extension), which nixos-generate reads to lay out the tarball.
# Left out: closureInfo and the builder script; the stand-in has no tar.xz
# compressor, so building this derivation fails with a message saying so.
{ runCommand, stdenv, pixz ? null,
  fileName ? "nixos-system-${stdenv.hostPlatform.system}",
  contents,
  storeContents ? [ ],
  extraCommands ? "",
  extraArgs ? "",
  compressCommand ? "pixz -t",
  compressionExtension ? ".xz",
  extraInputs ? [ ],
}:
let
  symlinks = map (x: x.symlink) storeContents;
  objects = map (x: x.object) storeContents;
in
runCommand "tarball" {
  inherit fileName extraArgs extraCommands compressCommand symlinks objects;
  sources = map (x: x.source) contents;
  targets = map (x: x.target) contents;
  extension = compressionExtension;
} ''
  echo "the stand-in nixpkgs cannot build $fileName.tar$extension (no xz compressor); nixos-generate writes it" >&2
  exit 1
''
