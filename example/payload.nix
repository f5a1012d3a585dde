# An optional synthetic package for tests and benchmarks: `files` files of random
# content totalling about `mebibytes` MiB, in 100 directories, linked into the
# system path so it is part of the closure.
{ files, mebibytes }:
{ pkgs, ... }:
{
  environment.systemPackages = [
    (pkgs.runCommand "payload-${toString files}-files-${toString mebibytes}-mib" { } ''
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
    '')
  ];
}
