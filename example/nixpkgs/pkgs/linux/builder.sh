# Builds the kernel package from linux-image-<version>-{amd64,arm64}.deb:
#   $out/$kernelFile (bzImage, or arm64's uncompressed Image), $out/System.map, $out/config,
#   $out/dtbs (arm64: the device trees, <vendor>/<board>.dtb, as nixpkgs' kernels install them),
#   $out/lib/modules/$modDirVersion/ with modules.dep (busybox depmod) and
#   modules.softdep (from the modules' own softdep= fields).
unpackDeb "$debFile" root
mods="root/lib/modules/$modDirVersion"
[ -f "root/boot/vmlinuz-$modDirVersion" ] || die "no boot/vmlinuz-$modDirVersion in $debFile"
[ -d "$mods/kernel" ] || die "no lib/modules/$modDirVersion/kernel in $debFile"

# softdep lines in kmod's format: "softdep <module> pre: a b post: c"
writeSoftdeps() { # <lib/modules/version directory>
  (cd "$1" && find kernel -name '*.ko*' | sort | xargs strings -f) |
    sed -n 's|^\(.*\)\.ko[.a-z]*: softdep=\(.*\)$|\1 \2|p' |
    while read -r path rest; do
      m="$(basename "$path" | tr - _)"
      echo "softdep $m $rest"
    done >"$1/modules.softdep"
}

depmod -b root "$modDirVersion" || die "depmod failed"
writeSoftdeps "$mods"

mkdir -p "$out/lib/modules"
cp "root/boot/vmlinuz-$modDirVersion" "$out/$kernelFile"
if [ -d "root/usr/lib/linux-image-$modDirVersion" ]; then
  cp -R "root/usr/lib/linux-image-$modDirVersion" "$out/dtbs"
fi
cp "root/boot/System.map-$modDirVersion" "$out/System.map"
cp "root/boot/config-$modDirVersion" "$out/config"

if [ -n "$keepAll" ]; then
  mv "$mods" "$out/lib/modules/$modDirVersion"
else
  dest="$out/lib/modules/$modDirVersion"
  mkdir -p "$dest"
  # shellcheck disable=SC2086
  awk -v dir="$mods" -f "$closureScript" $keepModules >kept || die "module selection failed"
  while read -r rel; do
    mkdir -p "$dest/$(dirname "$rel")"
    cp "$mods/$rel" "$dest/$rel"
  done <kept
  for f in modules.builtin modules.builtin.modinfo modules.order; do
    [ ! -f "$mods/$f" ] || cp "$mods/$f" "$dest/$f"
  done
  depmod -b "$out" "$modDirVersion" || die "depmod failed"
  writeSoftdeps "$dest"
  echo "kernel: kept $(wc -l <kept) of $(find "$mods" -name '*.ko*' | wc -l) modules" >&2
fi
