#!/bin/sh
# Stage 1 of the example system (the initrd's /init, busybox sh).
# Loads kernel modules as they are needed, mounts the filesystems needed for boot
# (fileSystems, in mount point order; the ESP on /boot too when present), then
# hands over to the stage 2 init named by init= on the kernel command line.
export PATH=/bin
umask 022

mkdir -p /dev /proc /sys /run /tmp
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

fileSystems=
postMountCommands=
espLabel=ESP
timeout=30
kernelVersion=
. /etc/initrd.conf

info() { echo "stage 1: $*"; }

fail() {
  echo
  echo "stage 1: error: $*"
  echo "stage 1: press Enter within $timeout s for a shell; otherwise the machine powers off."
  if read -r -t "$timeout" _; then
    echo "stage 1: starting a shell; the machine powers off when it exits."
    setsid cttyhack sh -i || sh -i
  fi
  echo "stage 1: powering off."
  sync
  poweroff -f
  sleep 5
  exit 1
}

info "example system stage 1 (kernel $(uname -r))"
[ "$(uname -r)" = "$kernelVersion" ] ||
  info "warning: the initrd's modules are for $kernelVersion but the kernel is $(uname -r)"

init=
debug1=
rootParam=
for opt in $(cat /proc/cmdline); do
  case "$opt" in
    init=*) init="${opt#init=}" ;;
    root=*) rootParam="${opt#root=}" ;;
    boot.debug1 | boot.debug1mounts) debug1="${opt#boot.}" ;;
  esac
done

if [ "$debug1" = debug1 ]; then
  echo "stage 1: boot.debug1: shell before loading modules (exit to continue)"
  setsid cttyhack sh -i || sh -i
fi

# Kernel modules as NixOS's stage 1 loads them: the kernel asks /sbin/modprobe (here
# the initrd's busybox) for what it needs (filesystems, checksums, loop devices),
# boot.initrd.kernelModules are loaded by name, and the drivers of the hardware present
# by modalias, as udev's coldplug does (see coldplug).
notLoaded=
for module in $kernelModules; do
  modprobe "$module" 2>/dev/null || notLoaded="$notLoaded $module"
done
[ -z "$notLoaded" ] || info "modules not loaded (no such hardware/CPU feature):$notLoaded"

# Loads the drivers of every device's modalias, again while that adds devices (virtio_pci
# adds virtio devices, a disk controller SCSI devices). Devices found later (a USB stick,
# a CD behind AHCI) are picked up by the next call, made while waiting for a device.
coldplugged=
coldplug() {
  while :; do
    aliases="$(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u)"
    [ "$aliases" != "$coldplugged" ] || return 0
    coldplugged="$aliases"
    set --
    while IFS= read -r alias; do set -- "$@" "$alias"; done <<EOF
$aliases
EOF
    modprobe -a -q "$@" 2>/dev/null
  done
}
coldplug

# A device named as fileSystems names it, resolved the way udev's links would:
# by label or UUID (findfs probes), /dev/root (the root= kernel parameter), a
# file on a filesystem mounted before (mounted through a loop device), or a node.
resolveDevice() {
  case "$1" in
    /dev/disk/by-label/*) findfs "LABEL=${1#/dev/disk/by-label/}" 2>/dev/null ;;
    /dev/disk/by-uuid/*) findfs "UUID=${1#/dev/disk/by-uuid/}" 2>/dev/null ;;
    /dev/root) [ -n "$rootParam" ] && resolveDevice "$rootParam" ;;
    LABEL=*) resolveDevice "/dev/disk/by-label/${1#LABEL=}" ;;
    UUID=*) resolveDevice "/dev/disk/by-uuid/${1#UUID=}" ;;
    /dev/*) [ -b "$1" ] && echo "$1" ;;
    /*) [ -e "/mnt-root$1" ] && echo "/mnt-root$1" ;;
    *) echo "$1" ;;
  esac
}

waitDevice() {
  deadline=$(($(date +%s) + timeout))
  while :; do
    found="$(resolveDevice "$1")" && [ -n "$found" ] && { echo "$found"; return 0; }
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    usleep 200000
    coldplug
  done
}

# Overlay directories are paths of the new root: prefix them, and create the
# upper and work directories as NixOS's stage 1 does.
overlayOptions() {
  out=
  for option in $(echo "$1" | tr , ' '); do
    case "$option" in
      lowerdir=*) option="lowerdir=$(echo "${option#lowerdir=}" | sed 's|^|/mnt-root|; s|:|:/mnt-root|g')" ;;
      upperdir=* | workdir=*) mkdir -p "/mnt-root${option#*=}"; option="${option%%=*}=/mnt-root${option#*=}" ;;
    esac
    out="${out:+$out,}$option"
  done
  echo "$out"
}

# Options for userspace (x-systemd.*, x-initrd.mount, ...) mean nothing to the kernel:
# drop them, as NixOS's stage 1 does.
withoutUserspaceOptions() {
  out=
  for option in $(echo "$1" | tr , ' '); do
    case "$option" in
      x-*) ;;
      *) out="${out:+$out,}$option" ;;
    esac
  done
  echo "$out"
}

# The type of the filesystem on a device, from its magic (Debian's busybox has no blkid),
# for the types the example's images hold; nothing when none matches.
probeType() {
  bytesAt() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | od -An -c | tr -d ' \n'; }
  if [ "$(bytesAt "$1" 32769 5)" = CD001 ]; then echo iso9660
  elif [ "$(bytesAt "$1" 0 4)" = hsqs ]; then echo squashfs
  elif [ "$(bytesAt "$1" 1080 2)" = 'S357' ]; then echo ext4
  elif [ "$(bytesAt "$1" 82 5)" = FAT32 ] || [ "$(bytesAt "$1" 54 3)" = FAT ]; then echo vfat
  fi
}

mkdir -p /mnt-root
echo "$fileSystems" | while IFS="$(printf '\t')" read -r mountPoint device fsType options; do
  [ -n "$mountPoint" ] || continue
  case "$fsType:$device" in
    tmpfs:* | overlay:* | proc:* | sysfs:*) source="$device" ;;
    # A device that is not a path is a pseudo-device (a 9p mount tag, "tmpfs",
    # "overlay", server:/path): nothing to wait for, as in NixOS's stage 1.
    *:/* | *:LABEL=* | *:UUID=*)
      info "waiting for $device (for $mountPoint)"
      source="$(waitDevice "$device")" ||
        fail "$device (for $mountPoint) did not appear within $timeout s (disks: $(cut -c26- /proc/partitions | tail -n +3 | tr '\n' ' '))"
      ;;
    *) source="$device" ;;
  esac
  [ "$options" != - ] || options=
  options="$(withoutUserspaceOptions "$options")"
  [ "$fsType" != overlay ] || options="$(overlayOptions "$options")"
  case "$source" in /mnt-root/*) [ -f "$source" ] && options="${options:+$options,}loop" ;; esac
  # "auto" is resolved by probing, as NixOS's stage 1 does with blkid (mount alone would
  # only try the filesystems already loaded).
  if [ "$fsType" = auto ] && [ -e "$source" ]; then
    probed="$(probeType "$source")"
    [ -z "$probed" ] || fsType="$probed"
  fi
  mkdir -p "/mnt-root$mountPoint"
  typeArg="-t $fsType"
  [ "$fsType" != auto ] || typeArg=
  # shellcheck disable=SC2086
  mount $typeArg -o "rw${options:+,$options}" "$source" "/mnt-root$mountPoint" ||
    fail "cannot mount $source as $fsType on $mountPoint"
  info "mounted $source ($fsType) on $mountPoint"
done || exit 1
grep -q " /mnt-root " /proc/mounts || fail "nothing was mounted on / (fileSystems has no root filesystem needed for boot)"
rootDevice="$(awk '$2 == "/mnt-root" { print $1 }' /proc/mounts)"
storeType="$(awk '$2 == "/mnt-root/nix/store" { print $3 }' /proc/mounts)"
readOnlyStore="$(awk '$2 == "/mnt-root/nix/.ro-store" { print $3 " " $1 }' /proc/mounts)"
if [ -n "$storeType" ]; then
  info "the store is an $storeType on /nix/store${readOnlyStore:+ over the $readOnlyStore}"
else
  info "the store is on /"
fi

espDevice="$(findfs "LABEL=$espLabel" 2>/dev/null)" || espDevice=
if [ -n "$espDevice" ]; then
  mkdir -p /mnt-root/boot
  if mount -t vfat -o rw "$espDevice" /mnt-root/boot; then
    info "mounted $espDevice (label $espLabel) on /boot"
  else
    info "warning: cannot mount the ESP $espDevice on /boot"
  fi
fi

# boot.initrd.postMountCommands, not stopping at a failing command (as NixOS's stage 1).
eval "$postMountCommands"

if [ "$debug1" = debug1mounts ]; then
  echo "stage 1: boot.debug1mounts: shell after mounting (exit to continue)"
  setsid cttyhack sh -i || sh -i
fi

[ -n "$init" ] || fail "no init= on the kernel command line"
[ -e "/mnt-root$init" ] || [ -L "/mnt-root$init" ] ||
  fail "the stage 2 init $init does not exist on the root filesystem ($rootDevice)"

for fs in dev proc sys; do
  mkdir -p "/mnt-root/$fs"
  mount --move "/$fs" "/mnt-root/$fs" || fail "cannot move /$fs into the root filesystem"
done
mkdir -p /mnt-root/run /mnt-root/tmp

info "switching to $init"
exec switch_root /mnt-root "$init"
echo "stage 1: error: switch_root failed"
exec sh
