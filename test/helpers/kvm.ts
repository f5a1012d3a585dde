/**
 * What a vm runner (formats/vm-runner-script.ts) should say about KVM on this host, found
 * here independently of the runner: why it falls back to software emulation, or nothing
 * when KVM runs the guest.
 */
import { accessSync, constants } from 'node:fs';
import { arch } from 'node:os';
import { spawnSync } from 'node:child_process';

const GUESTS = {
  'x86_64-linux': { machine: 'x86_64', nodeArch: 'x64', qemu: 'qemu-system-x86_64', args: ['-machine', 'accel=kvm'] },
  'aarch64-linux': { machine: 'aarch64', nodeArch: 'arm64', qemu: 'qemu-system-aarch64', args: ['-machine', 'virt,gic-version=max,accel=kvm'] },
} as const;

/** The runner's notice for a guest of `system` here, or undefined when it should use KVM. */
export function expectedKvmNotice(system: keyof typeof GUESTS): RegExp | undefined {
  const guest = GUESTS[system];
  if (arch() !== guest.nodeArch) return new RegExp(`this host is \\S+, not ${guest.machine}; running under software emulation \\(much slower\\)`);
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return /\/dev\/kvm is missing or not accessible; running under software emulation \(much slower\)/;
  }
  // A QEMU stopped before the first instruction and told to quit: a vCPU KVM cannot set up aborts it.
  const probe = spawnSync(guest.qemu, [...guest.args, '-cpu', 'max', '-display', 'none', '-nodefaults', '-monitor', 'stdio', '-S'], { input: 'quit\n', timeout: 30_000 });
  return probe.status === 0 ? undefined : /KVM cannot start a virtual CPU here; running under software emulation \(much slower\)/;
}

/** Checks a runner's stderr against expectedKvmNotice. */
export function kvmNoticeMatches(stderr: string, system: keyof typeof GUESTS): boolean {
  const notice = expectedKvmNotice(system);
  return notice === undefined ? !/running under software emulation/.test(stderr) : notice.test(stderr);
}
