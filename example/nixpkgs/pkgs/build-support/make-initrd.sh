# Builds $out/initrd (see make-initrd.nix) and $out/modules (the modules it holds,
# dependencies first).
. "$cpioScript"
root="$NIX_BUILD_TOP/root"
kmods="$kernel/lib/modules/$modDirVersion"
dest="$root/lib/modules/$modDirVersion"
[ -f "$kmods/modules.dep" ] || die "$kernel has no lib/modules/$modDirVersion/modules.dep"

mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/run" "$root/tmp" \
  "$root/etc" "$root/mnt-root" "$dest"
ln -s bin "$root/sbin"

cp "$busybox/bin/busybox" "$root/bin/busybox"
# The applet list of the build machine's busybox: the same Debian configuration (the
# initrd's busybox may be for another architecture).
for applet in $("$bootstrapBusybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

# Kernel modules: resolve dependencies from modules.dep (and soft
# dependencies), copy them uncompressed; depmod indexes them for the initrd's
# modprobe, which loads them by name, alias and modalias.
# shellcheck disable=SC2086
awk -v dir="$kmods" -f "$closureScript" $modulesList >order ||
  die "cannot resolve the initrd kernel modules ($modulesList) in $kernel (a module missing from this kernel? pkgs.linux keeps a selection of modules; pkgs.linuxPackages_full has all)"
: >modules
while read -r rel; do
  mkdir -p "$dest/$(dirname "$rel")"
  case "$rel" in
    *.ko) cp "$kmods/$rel" "$dest/$rel"; plain="$rel" ;;
    *.ko.xz) plain="${rel%.xz}"; xz -dc "$kmods/$rel" >"$dest/$plain" ;;
    *.ko.gz) plain="${rel%.gz}"; gzip -dc "$kmods/$rel" >"$dest/$plain" ;;
    *) die "cannot decompress $rel (busybox handles .ko, .ko.xz and .ko.gz)" ;;
  esac
  echo "$plain" >>modules
done <order
for f in modules.builtin modules.order; do
  [ ! -f "$kmods/$f" ] || cp "$kmods/$f" "$dest/$f"
done
depmod -b "$root" "$modDirVersion" || die "depmod failed"

cp "$init" "$root/init"
chmod 0755 "$root/init"
cp "$initrdConfigPath" "$root/etc/initrd.conf"
echo "kernelVersion=$modDirVersion" >>"$root/etc/initrd.conf"

mkdir -p "$out"
(cd "$root" && writeCpio dev/console:c:5:1:600 dev/null:c:1:3:666) | gzip -9 >"$out/initrd"
cp modules "$out/modules"
echo "initrd: $(wc -l <"$out/modules") modules, $(stat -c %s "$out/initrd") bytes" >&2
