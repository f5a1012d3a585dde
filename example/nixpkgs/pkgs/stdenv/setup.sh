# Prelude of every builder of the stand-in (run by the static busybox sh).
# Puts every busybox applet on PATH and defines helpers for .deb packages.
tools="$NIX_BUILD_TOP/.tools"
"$bootstrapBusybox" mkdir -p "$tools"
for applet in $("$bootstrapBusybox" --list); do
  "$bootstrapBusybox" ln -s "$bootstrapBusybox" "$tools/$applet"
done
export PATH="${inputsPath:+$inputsPath:}$tools"
export LC_ALL=C TZ=UTC

die() {
  echo "builder of $name: error: $*" >&2
  exit 1
}

# unpackDeb <file.deb> <directory>: extracts the data archive of a package.
unpackDeb() {
  _work="$NIX_BUILD_TOP/.deb.$$"
  rm -rf "$_work"
  mkdir -p "$_work" "$2"
  (cd "$_work" && ar x "$1") || die "cannot read $1 (not a .deb?)"
  set -- "$1" "$2" "$_work"/data.tar*
  case "$3" in
    *.tar.xz) xz -dc "$3" | tar -x -C "$2" ;;
    *.tar.gz) gzip -dc "$3" | tar -x -C "$2" ;;
    *.tar) tar -x -C "$2" -f "$3" ;;
    *) die "$1: unsupported data archive $(basename "$3") (busybox has no zstd)" ;;
  esac
  rm -rf "$_work"
}

# writeLoaderWrapper <runtime> <program> <wrapper>: writes <wrapper>, a $shell script that
# runs the dynamically linked Debian <program> through <runtime>'s glibc loader ($loader,
# the x86_64 one unless set) with the libraries in <runtime>/lib (the stand-in has no
# patchelf; this way it runs anywhere, inside Nix's sandbox too).
writeLoaderWrapper() {
  printf '#!%s\nexec %s/lib/%s --library-path %s/lib %s "$@"\n' "$shell" "$1" "${loader:-ld-linux-x86-64.so.2}" "$1" "$2" >"$3"
  chmod 0555 "$3"
}
