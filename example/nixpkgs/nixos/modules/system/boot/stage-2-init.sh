#!@shell@
# Stage 2 of the example system (<toplevel>/init). It does not start any
# services: it reports what it found on one line and powers off.
export PATH=@systemPath@/bin
[ -e /proc/self ] || { mkdir -p /proc; mount -t proc proc /proc; }

esp=none
while read -r _device mountPoint fsType _rest; do
  if [ "$mountPoint" = /boot ] && [ "$fsType" = vfat ]; then esp=ok; fi
done </proc/mounts

profile=missing
[ "$(readlink -f /nix/var/nix/profiles/system 2>/dev/null)" = "@toplevel@" ] && profile=ok

nixdb=missing
[ -e /nix/var/nix/db/db.sqlite ] && nixdb=ok

echo "EXAMPLE-SYSTEM-BOOTED host=@hostName@ esp=$esp profile=$profile nixdb=$nixdb"
sync
poweroff -f
