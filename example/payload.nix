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
      i=0
      while [ "$i" -lt "$dirs" ]; do
        d="$out/share/payload/d$i"
        mkdir -p "$d"
        j=0
        while [ "$j" -lt "$per_dir" ]; do
          head -c "$bytes_per_file" /dev/urandom > "$d/f$j"
          j=$((j + 1))
        done
        i=$((i + 1))
      done
      printf '#!/bin/sh\necho %s files\n' "$(find "$out/share/payload" -type f | wc -l)" > "$out/bin/payload-info"
      chmod +x "$out/bin/payload-info"
    '')
  ];
}
