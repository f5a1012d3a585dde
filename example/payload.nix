# An optional synthetic package for tests and benchmarks: `files` files totalling
# about `mebibytes` MiB, in 100 directories, linked into the system path so it is
# part of the closure.
#
# content = "random" (the default): random bytes, which no compressor shrinks.
# content = "store-like": compressible as a store's binaries are: slices of GRUB's
# modules and images and the Debian runtime's libraries, each round of them shifted
# by a few bytes so that no two files are the same, with every third file random
# (the already-compressed files of a closure). `generation` changes the bytes and
# the name, for a store path that is rebuilt.
{ files, mebibytes, content ? "random", generation ? 0 }:
{ pkgs, ... }:
let
  random = pkgs.runCommand "payload-${toString files}-files-${toString mebibytes}-mib" { } ''
      set -eu
      mkdir -p "$out/bin" "$out/share/payload"
      dirs=100
      per_dir=$(( (${toString files} + dirs - 1) / dirs ))
      bytes_per_file=$(( ${toString mebibytes} * 1048576 / (per_dir * dirs) ))
      # A few processes in all, not one per file: every file is made at its size
      # (truncate), then filled from /dev/urandom (shred, one pass), in batches.
      cd "$out/share/payload"
      awk -v dirs="$dirs" 'BEGIN { for (i = 0; i < dirs; i++) print "d" i }' | xargs mkdir
      awk -v dirs="$dirs" -v per_dir="$per_dir" \
        'BEGIN { for (i = 0; i < dirs; i++) for (j = 0; j < per_dir; j++) print "d" i "/f" j }' >"$NIX_BUILD_TOP/files"
      xargs truncate -s "$bytes_per_file" <"$NIX_BUILD_TOP/files"
      xargs shred -n 1 <"$NIX_BUILD_TOP/files"
      cd /
      printf '#!/bin/sh\necho %s files\n' "$(find "$out/share/payload" -type f | wc -l)" > "$out/bin/payload-info"
      chmod +x "$out/bin/payload-info"
    '';
  storeLike = pkgs.runCommand "store-like-${toString files}-files-${toString mebibytes}-mib-generation-${toString generation}" { } ''
    set -eu
    mkdir -p "$out/share/payload"
    dirs=$(( ${toString files} < 100 ? ${toString files} : 100 ))
    per_dir=$(( (${toString files} + dirs - 1) / dirs ))
    bytes_per_file=$(( ${toString mebibytes} * 1048576 / (per_dir * dirs) ))
    pool="$NIX_BUILD_TOP/pool"
    stream="$NIX_BUILD_TOP/stream"
    find ${pkgs.grub2} ${pkgs.grub2_efi} ${pkgs.debianRuntime} -type f | sort | xargs cat >"$pool"
    total=$(( per_dir * dirs * bytes_per_file ))
    round=0
    : >"$stream"
    while [ "$(stat -c %s "$stream")" -lt "$total" ]; do
      tail -c +$(( round * 37 + ${toString generation} * 101 + 1 )) "$pool" >>"$stream"
      round=$(( round + 1 ))
    done
    cd "$out/share/payload"
    # One dd per file (no split here): about a minute for 50,000 files.
    i=0
    while [ "$i" -lt "$dirs" ]; do
      mkdir "d$i"
      j=0
      while [ "$j" -lt "$per_dir" ]; do
        dd if="$stream" of="d$i/f$j" bs="$bytes_per_file" skip=$(( i * per_dir + j )) count=1 2>/dev/null
        j=$(( j + 1 ))
      done
      i=$(( i + 1 ))
    done
    find . -type f | sort | awk 'NR % 3 == 0' | xargs -r shred -n 1
  '';
in
{
  environment.systemPackages = [ (if content == "random" then random else storeLike) ];
}
