#!@shell@
# Stage 2 of the example system (<toplevel>/init). It does not start any
# services: it counts the boot (on the root filesystem), reports what it found
# on one line and powers off.
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

# The kernel command line: regInfo= (a VM's closure registration, which NixOS loads at
# boot) and example.tag= (a value to repeat in the report).
regInfo=
tag=
for opt in $(cat /proc/cmdline); do
  case "$opt" in
    regInfo=*) regInfo="${opt#regInfo=}" ;;
    example.tag=*) tag="${opt#example.tag=}" ;;
  esac
done
if [ "$nixdb" = missing ] && [ -n "$regInfo" ] && [ -s "$regInfo" ] && [ -r "$regInfo" ]; then
  nixdb=reginfo
fi

# boot.postBootCommands, as NixOS's stage 2 runs them before starting systemd.
. @postBootCommands@

# How many times this root filesystem has booted, kept on it (written and synced
# before the report; "?" when it cannot be written).
bootsFile=/var/lib/example-system/boots
boots="$(cat "$bootsFile" 2>/dev/null)"
case "$boots" in '' | *[!0-9]*) boots=0 ;; esac
boots=$((boots + 1))
if { mkdir -p "${bootsFile%/*}" && echo "$boots" >"$bootsFile.tmp" && mv -f "$bootsFile.tmp" "$bootsFile" && sync; } 2>/dev/null; then
  :
else
  boots='?'
fi

echo "EXAMPLE-SYSTEM-BOOTED host=@hostName@ esp=$esp profile=$profile nixdb=$nixdb store=$store boots=$boots${tag:+ tag=$tag}"
sync
poweroff -f
