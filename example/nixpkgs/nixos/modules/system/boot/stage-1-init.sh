#!/bin/sh
# Stage 1 of the example system (the initrd's /init, busybox sh).
# Loads the initrd's kernel modules, finds the root filesystem by its label,
# mounts it read-write (and the ESP on /boot when present), then hands over
# to the stage 2 init named by init= on the kernel command line.
export PATH=/bin
umask 022

mkdir -p /dev /proc /sys /run /tmp
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

rootLabel=nixos
rootFsType=ext4
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
for opt in $(cat /proc/cmdline); do
  case "$opt" in
    init=*) init="${opt#init=}" ;;
    boot.debug1 | boot.debug1mounts) debug1="${opt#boot.}" ;;
  esac
done

if [ "$debug1" = debug1 ]; then
  echo "stage 1: boot.debug1: shell before loading modules (exit to continue)"
  setsid cttyhack sh -i || sh -i
fi

# Kernel modules, in the dependency order computed when the initrd was built.
notLoaded=
while read -r module; do
  insmod "/lib/modules/$kernelVersion/$module" 2>/dev/null ||
    grep -q "^$(basename "$module" .ko | tr - _) " /proc/modules ||
    notLoaded="$notLoaded $(basename "$module" .ko)"
done </etc/modules-load
[ -z "$notLoaded" ] || info "modules not loaded (no such hardware/CPU feature):$notLoaded"

# The root filesystem, by label (devtmpfs creates the nodes; findfs probes).
info "waiting for the root filesystem (label $rootLabel)"
rootDevice=
deadline=$(($(date +%s) + timeout))
while :; do
  rootDevice="$(findfs "LABEL=$rootLabel" 2>/dev/null)" && [ -n "$rootDevice" ] && break
  rootDevice=
  [ "$(date +%s)" -lt "$deadline" ] || break
  usleep 200000
done
[ -n "$rootDevice" ] || fail "no filesystem with label $rootLabel appeared within $timeout s (disks: $(cut -c26- /proc/partitions | tail -n +3 | tr '\n' ' '))"

mkdir -p /mnt-root
mount -t "$rootFsType" -o rw "$rootDevice" /mnt-root ||
  fail "cannot mount $rootDevice (label $rootLabel) as $rootFsType on /"
info "mounted $rootDevice (label $rootLabel) on /"

espDevice="$(findfs "LABEL=$espLabel" 2>/dev/null)" || espDevice=
if [ -n "$espDevice" ]; then
  mkdir -p /mnt-root/boot
  if mount -t vfat -o rw "$espDevice" /mnt-root/boot; then
    info "mounted $espDevice (label $espLabel) on /boot"
  else
    info "warning: cannot mount the ESP $espDevice on /boot"
  fi
fi

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
