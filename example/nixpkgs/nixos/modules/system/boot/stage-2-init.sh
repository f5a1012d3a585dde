#!@shell@
# Stage 2 of the example system (<toplevel>/init). It does not start any
# services: it reports what it found on one line and powers off.
export PATH=@systemPath@/bin
[ -e /proc/self ] || { mkdir -p /proc; mount -t proc proc /proc; }

esp=none
store=root
readOnlyStore=
while read -r _device mountPoint fsType _rest; do
  if [ "$mountPoint" = /boot ] && [ "$fsType" = vfat ]; then esp=ok; fi
  if [ "$mountPoint" = /nix/store ]; then store="$fsType"; fi
  if [ "$mountPoint" = /nix/.ro-store ]; then readOnlyStore="$fsType"; fi
done </proc/mounts
# A live system's store: an overlay over the squashfs, as NixOS's ISOs mount it.
[ -z "$readOnlyStore" ] || store="$store+$readOnlyStore"

profile=missing
[ "$(readlink -f /nix/var/nix/profiles/system 2>/dev/null)" = "@toplevel@" ] && profile=ok

# A disk image carries the Nix database; a live system and a container tarball the
# registration NixOS loads at boot (/nix/store/nix-path-registration, /nix-path-registration).
nixdb=missing
[ -e /nix/var/nix/db/db.sqlite ] && nixdb=ok
if [ "$nixdb" != ok ] && { [ -s /nix/store/nix-path-registration ] || [ -s /nix-path-registration ]; }; then
  nixdb=registration
fi

# boot.postBootCommands, as NixOS's stage 2 runs them before starting systemd.
. @postBootCommands@

echo "EXAMPLE-SYSTEM-BOOTED host=@hostName@ esp=$esp profile=$profile nixdb=$nixdb store=$store"
sync
poweroff -f
