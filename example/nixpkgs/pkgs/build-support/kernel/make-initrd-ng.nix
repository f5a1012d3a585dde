# Imitates pkgs/build-support/kernel/make-initrd-ng.nix: $out/initrd is the prepended
# files as they are, then a compressed newc cpio of `contents` (each source copied to its
# store path, the target a symlink to it). The stand-in cannot compress with zstd (busybox),
# so building it fails with one line; nixos-generate writes the netboot ramdisk itself.
{ lib, runCommand }:
{ name ? "initrd", compressor ? "gzip", compressorArgs ? null, prepend ? [ ], contents, ... }:
runCommand name {
  inherit prepend;
  compressorName = if builtins.isString compressor then compressor else "custom";
  storePaths = map (c: c.source) contents;
  targets = map (c: c.target) contents;
  passthru.extension = ".${if builtins.isString compressor then compressor else "img"}";
} ''
  die "the stand-in nixpkgs cannot build makeInitrdNG ramdisks; nixos-generate writes the netboot ramdisk itself"
''
