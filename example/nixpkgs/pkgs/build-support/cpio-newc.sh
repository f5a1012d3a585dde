# writeCpio: writes a newc ("070701") cpio archive of the current directory
# to stdout, in sorted order, with every owner 0, every mtime 1, inode numbers
# counted from 1 and normalized permissions, so equal trees give equal bytes.
# Extra device nodes are given as arguments: "path:c:major:minor:mode".
# (Written for busybox sh: the archive format is plain ASCII hex headers.)

_cpioIno=0

_cpioPad() { # <byte count> -> NUL bytes up to the next multiple of 4
  case $(( (4 - $1 % 4) % 4 )) in
    1) printf '\0' ;;
    2) printf '\0\0' ;;
    3) printf '\0\0\0' ;;
  esac
}

_cpioHeader() { # <name> <mode> <nlink> <size> <rdevmajor> <rdevminor>
  _cpioIno=$((_cpioIno + 1))
  _namesize=$(( ${#1} + 1 ))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$_cpioIno" "$2" 0 0 "$3" 1 "$4" 0 0 "$5" "$6" "$_namesize" 0
  printf '%s\0' "$1"
  _cpioPad $((110 + _namesize))
}

writeCpio() {
  find . -mindepth 1 | sed 's|^\./||' | sort | while read -r p; do
    if [ -L "$p" ]; then
      target="$(readlink "$p")"
      _cpioHeader "$p" $((0120777)) 1 "${#target}" 0 0
      printf '%s' "$target"
      _cpioPad "${#target}"
    elif [ -d "$p" ]; then
      _cpioHeader "$p" $((040755)) 2 0 0 0
    elif [ -f "$p" ]; then
      size=$(stat -c %s "$p")
      if [ -x "$p" ]; then mode=$((0100755)); else mode=$((0100644)); fi
      _cpioHeader "$p" "$mode" 1 "$size" 0 0
      cat "$p"
      _cpioPad "$size"
    else
      echo "writeCpio: unsupported file type: $p" >&2
      return 1
    fi
  done
  for node in "$@"; do
    IFS=: read -r p kind major minor perm <<NODE
$node
NODE
    case "$kind" in
      c) mode=$((020000 | 0$perm)) ;;
      b) mode=$((060000 | 0$perm)) ;;
      *) echo "writeCpio: bad node spec $node" >&2; return 1 ;;
    esac
    _cpioHeader "$p" "$mode" 1 0 "$major" "$minor"
  done
  _cpioHeader "TRAILER!!!" 0 1 0 0 0
}
