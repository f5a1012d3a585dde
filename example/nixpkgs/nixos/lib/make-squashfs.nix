# Imitates nixos/lib/make-squashfs.nix: a derivation named <fileName>.img holding the
# closure of storeContents (and its nix-path-registration) in a squashfs. The stand-in
# has no mksquashfs, so building it fails with one line; nixos-generate writes the
# squashfs itself and only takes the derivation's store path (its name in the initrd).
{ lib, runCommand, fileName ? "squashfs", storeContents ? [ ], comp ? "xz -Xdict-size 100%", hydraBuildProduct ? false, pseudoFiles ? [ ] }:
runCommand "${fileName}.img" {
  inherit comp;
  contents = storeContents;
} ''
  die "the stand-in nixpkgs has no mksquashfs; nixos-generate writes this squashfs itself"
''
