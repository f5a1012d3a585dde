/**
 * The text of bin/run-<name>-vm: a POSIX shell script that starts the system in QEMU as
 * nixpkgs' virtualisation/qemu-vm.nix runner does (the same environment variables, 9p
 * shares, drive, network and kernel command line), with three differences that let it
 * run on any Linux host: it uses the host's QEMU and OVMF, falls back from KVM to
 * software emulation with a notice (where KVM is missing, cannot run the guest's
 * architecture, or cannot start a virtual CPU), and creates the disk by copying an empty ext4 written
 * at build time instead of running mkfs. It finds its files relative to itself, so the
 * output directory may be moved.
 */
import type { VmForwardPlan, VmPlan } from '../plan/types.js';

/** Where the runner's files are, relative to the output directory. */
export const VM_EMPTY_DISK = 'empty-disk.qcow2';
export const VM_SYSTEM_LINK = 'system';
/** After the machine arguments with accel=kvm: a QEMU stopped before the guest's first instruction, told to quit on stdin, exits 0 when KVM can start a virtual CPU. */
export const KVM_PROBE_OPTIONS = '-display none -nodefaults -monitor stdio -S';

/** What the runner starts for a guest platform, as nixpkgs' qemu-common.nix and qemu-vm.nix choose it. */
export interface RunnerPlatform {
  /** What `uname -m` says on a host whose KVM runs this guest. */
  readonly hostMachine: string;
  readonly qemu: string;
  /** The Debian package with `qemu`, for the message when it is missing. */
  readonly qemuPackage: string;
  /** qemu-common.nix's qemuBinary arguments, with the accelerator the runner picks. */
  readonly machine: string;
  /** qemu-vm.nix's own platform items of qemu.options (input devices, graphics). */
  readonly devices: string;
  /** UEFI code and variable files that belong together, as distributions install them. */
  readonly firmwarePairs: readonly (readonly [code: string, vars: string])[];
  readonly firmwareName: string;
  readonly firmwarePackage: string;
}

export const RUNNER_PLATFORMS: Readonly<Record<string, RunnerPlatform>> = {
  'x86_64-linux': {
    hostMachine: 'x86_64',
    qemu: 'qemu-system-x86_64',
    qemuPackage: 'qemu-system-x86',
    machine: '-machine accel=$accel -cpu max',
    devices: '-usb -device usb-tablet,bus=usb-bus.0',
    firmwarePairs: [
      ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd'],
      ['/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/OVMF/OVMF_VARS.fd'],
      ['/usr/share/edk2/ovmf/OVMF_CODE.fd', '/usr/share/edk2/ovmf/OVMF_VARS.fd'],
      ['/usr/share/edk2/x64/OVMF_CODE.4m.fd', '/usr/share/edk2/x64/OVMF_VARS.4m.fd'],
      ['/usr/share/qemu/ovmf-x86_64-code.bin', '/usr/share/qemu/ovmf-x86_64-vars.bin'],
      ['/run/libvirt/nix-ovmf/OVMF_CODE.fd', '/run/libvirt/nix-ovmf/OVMF_VARS.fd'],
    ],
    firmwareName: 'OVMF',
    firmwarePackage: 'ovmf',
  },
  'aarch64-linux': {
    hostMachine: 'aarch64',
    qemu: 'qemu-system-aarch64',
    qemuPackage: 'qemu-system-arm',
    machine: '-machine virt,gic-version=max,accel=$accel -cpu max',
    devices: '-device virtio-gpu-pci -device usb-ehci,id=usb0 -device usb-kbd -device usb-tablet',
    firmwarePairs: [
      ['/usr/share/AAVMF/AAVMF_CODE.fd', '/usr/share/AAVMF/AAVMF_VARS.fd'],
      ['/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw', '/usr/share/edk2/aarch64/vars-template-pflash.raw'],
      ['/usr/share/edk2/aarch64/QEMU_CODE.fd', '/usr/share/edk2/aarch64/QEMU_VARS.fd'],
    ],
    firmwareName: 'AAVMF (UEFI for aarch64)',
    firmwarePackage: 'qemu-efi-aarch64',
  },
};

/** qemu-vm.nix's forwardingOptions: each forward ends with a comma, guest ones quoted. */
function forwardOption(f: VmForwardPlan): string {
  if (f.from === 'host') return `hostfwd=${f.proto}:${f.host.address}:${f.host.port}-${f.guest.address}:${f.guest.port},`;
  // The command runs on the host: its nc, as the runner's QEMU is the host's.
  return `'guestfwd=${f.proto}:${f.guest.address}:${f.guest.port}-cmd:nc ${f.host.address} ${f.host.port}',`;
}

/** NIXPKGS_QEMU_KERNEL_<name>, the variable that replaces the kernel (qemu-vm.nix). */
function kernelVariable(name: string): string {
  return `NIXPKGS_QEMU_KERNEL_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** The runner script for `plan`, whose system is for `platform` (a key of RUNNER_PLATFORMS). */
export function vmRunnerScript(plan: VmPlan, platform: RunnerPlatform): string {
  const { vm } = plan;
  const me = `run-${vm.name}-vm`;
  const diskSize = vm.diskSize;
  const lines: string[] = [];
  const add = (...more: string[]): void => { lines.push(...more); };

  add(
    '#!/bin/sh',
    `# Starts ${vm.name} in QEMU, as nixpkgs' virtualisation/qemu-vm.nix runner does.`,
    `# Written by nixos-generate (${plan.format}) for ${plan.toplevel}.`,
    '#',
    `# NIX_DISK_IMAGE  the root disk (default ${vm.diskImage ?? 'none'}), created on first run`,
    '# QEMU_OPTS, QEMU_KERNEL_PARAMS, QEMU_NET_OPTS  added to the QEMU, kernel and -netdev arguments',
    '# TMPDIR (kept only with USE_TMPDIR=1), SHARED_DIR (shared as /tmp/shared), NIX_EFI_VARS',
    `# QEMU  the ${platform.qemu} to run; OVMF_CODE, OVMF_VARS  the UEFI firmware (useEFIBoot)`,
    '# Arguments are passed to QEMU.',
    'set -e',
    '',
    `fail() { echo "${me}: $*" >&2; exit 1; }`,
    '',
    '# The files next to bin/, wherever the output directory is.',
    'here=$(readlink -f "$0") || here=$0',
    'out=${here%/*/*}',
    '',
    `qemu=\${QEMU:-${platform.qemu}}`,
    'command -v "$qemu" >/dev/null 2>&1 ||',
    `  fail "$qemu was not found; install QEMU (Debian: apt-get install ${platform.qemuPackage}) or set QEMU to a ${platform.qemu}"`,
    '',
    '# KVM when it can run the guest here; otherwise QEMU\'s software emulation (TCG). A',
    '# /dev/kvm that opens may still fail to start a virtual CPU (nested virtualisation):',
    '# a QEMU stopped before the guest\'s first instruction, told to quit, says whether it can.',
    `accel=${vm.forceAccel ? 'kvm' : 'kvm:tcg'}`,
    'why=',
    `if [ "$(uname -m)" != ${platform.hostMachine} ]; then`,
    `  why="this host is $(uname -m), not ${platform.hostMachine}"`,
    'elif ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then',
    '  why="/dev/kvm is missing or not accessible"',
    `elif ! echo quit | "$qemu" ${platform.machine.replace('$accel', 'kvm')} ${KVM_PROBE_OPTIONS} >/dev/null 2>&1; then`,
    '  why="KVM cannot start a virtual CPU here"',
    'fi',
    'if [ -n "$why" ]; then',
    vm.forceAccel
      ? '  fail "$why, and virtualisation.qemu.forceAccel requires KVM"'
      : `  echo "${me}: $why; running under software emulation (much slower)" >&2`,
    '  accel=tcg',
    'fi',
    '',
  );

  if (vm.diskImage !== null) {
    add(
      `NIX_DISK_IMAGE=$(readlink -f "\${NIX_DISK_IMAGE:-${vm.diskImage}}") || test -z "$NIX_DISK_IMAGE"`,
      'if test -n "$NIX_DISK_IMAGE" && ! test -e "$NIX_DISK_IMAGE"; then',
      '  echo "Disk image does not exist, creating the virtualisation disk image..."',
    );
    if (plan.disk !== null) {
      add(
        '  # A copy-on-write overlay of the system image: the image itself never changes.',
        '  command -v qemu-img >/dev/null 2>&1 || fail "qemu-img was not found; install it (Debian: apt-get install qemu-utils)"',
        `  qemu-img create -q -f qcow2 -b "$out/${plan.disk.output.fileName}" -F qcow2 "$NIX_DISK_IMAGE"`,
      );
    } else {
      add(
        `  # An empty ext4 labelled nixos (${typeof diskSize === 'number' ? `${diskSize} MiB` : 'the default size'}), written when the runner was built.`,
        `  cp "$out/${VM_EMPTY_DISK}" "$NIX_DISK_IMAGE.tmp.$$"`,
        '  chmod 0644 "$NIX_DISK_IMAGE.tmp.$$"',
        '  mv "$NIX_DISK_IMAGE.tmp.$$" "$NIX_DISK_IMAGE"',
      );
    }
    add('  echo "Virtualisation disk image created."', 'fi', '');
  }

  add(
    '# A fresh directory for the xchg share, unless USE_TMPDIR asks for $TMPDIR itself.',
    'if [ -z "$TMPDIR" ] || [ -z "$USE_TMPDIR" ]; then',
    '  TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/nix-vm.XXXXXXXXXX")',
    'fi',
    'mkdir -p "$TMPDIR/xchg"',
    '',
  );

  if (vm.useEFIBoot) {
    add(
      `# The host's ${platform.firmwareName}; the variables are kept per VM, as qemu-vm.nix keeps them.`,
      'code=${OVMF_CODE:-}',
      'vars=${OVMF_VARS:-}',
      'if [ -z "$code" ]; then',
      `  for pair in ${platform.firmwarePairs.map(([c, v]) => `${c}:${v}`).join(' ')}; do`,
      '    if [ -f "${pair%%:*}" ] && [ -f "${pair#*:}" ]; then code=${pair%%:*}; vars=${pair#*:}; break; fi',
      '  done',
      'fi',
      `[ -n "$code" ] || fail "no ${platform.firmwareName} firmware was found; install it (Debian: apt-get install ${platform.firmwarePackage}) or set OVMF_CODE and OVMF_VARS"`,
      `NIX_EFI_VARS=$(readlink -f "\${NIX_EFI_VARS:-${vm.name}-efi-vars.fd}")`,
      'if ! test -e "$NIX_EFI_VARS"; then',
      '  [ -n "$vars" ] || fail "set OVMF_VARS to the variable store that goes with $code"',
      '  cp "$vars" "$NIX_EFI_VARS"',
      '  chmod 0644 "$NIX_EFI_VARS"',
      'fi',
      '',
    );
  }

  const forwards = vm.forwardPorts.map(forwardOption).join('') + (vm.restrictNetwork ? 'restrict=on,' : '');
  const args: string[] = [
    `"$qemu" ${platform.machine}`,
    `-name ${vm.name} -m ${vm.memorySize} -smp ${vm.cores} -device virtio-rng-pci`,
    `-net nic,netdev=user.0,model=virtio -netdev user,id=user.0,${forwards}"$QEMU_NET_OPTS"`,
    ...vm.networkingOptions,
    ...vm.shares.map((s) => `-virtfs local,path=${s.source},security_model=${s.securityModel},mount_tag=${s.tag}`),
  ];
  if (vm.diskImage !== null) {
    args.push('-drive cache=writeback,file="$NIX_DISK_IMAGE",id=drive1,if=none,index=1,werror=report -device virtio-blk-pci,bootindex=1,drive=drive1,serial=root');
  }
  if (vm.virtioKeyboard) args.push('-device virtio-keyboard');
  args.push(platform.devices);
  if (vm.sharedMemory) args.push(`-object memory-backend-memfd,id=mem0,size=${vm.memorySize}M,share=on -machine memory-backend=mem0`);
  if (vm.directBoot !== null) {
    const consoles = vm.consoles.map((c) => `console=${c}`).join(' ');
    args.push(
      `-kernel "\${${kernelVariable(vm.name)}:-${vm.directBoot.kernel}}"`,
      `-initrd ${vm.directBoot.initrd}`,
      `-append "$(cat ${plan.toplevel}/kernel-params) init=${plan.toplevel}/init regInfo=${vm.regInfo}/registration ${consoles} $QEMU_KERNEL_PARAMS"`,
    );
  }
  if (vm.useEFIBoot) {
    args.push('-drive if=pflash,format=raw,unit=0,readonly=on,file="$code"', '-drive if=pflash,format=raw,unit=1,readonly=off,file="$NIX_EFI_VARS"');
  }
  if (vm.bios !== null) args.push(`-bios ${vm.bios}`);
  if (!vm.graphics) args.push('-nographic');
  args.push(...vm.qemuOptions, '$QEMU_OPTS "$@"');

  add('cd "$TMPDIR"', '', `exec ${args.join(' \\\n  ')}`, '');
  return lines.join('\n');
}
