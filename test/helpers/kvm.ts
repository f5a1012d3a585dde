/**
 * What a vm runner (formats/vm-runner-script.ts) should say about KVM on this host, found
 * here by asking the host itself: why it falls back to software emulation, or nothing
 * when KVM runs the guest.
 */
import { accessSync, constants } from 'node:fs';
import { machine } from 'node:os';
import { spawnSync } from 'node:child_process';
import { KVM_PROBE_OPTIONS, RUNNER_PLATFORMS } from '../../src/formats/vm-runner-script.js';

type Guest = 'x86_64-linux' | 'aarch64-linux';

/** The runner's notice for a guest of `system` here, or undefined when it should use KVM. */
export function expectedKvmNotice(system: Guest): RegExp | undefined {
  const platform = RUNNER_PLATFORMS[system]!;
  if (machine() !== platform.hostMachine) return new RegExp(`this host is \\S+, not ${platform.hostMachine}; running under software emulation \\(much slower\\)`);
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return /\/dev\/kvm is missing or not accessible; running under software emulation \(much slower\)/;
  }
  const args = `${platform.machine.replace('$accel', 'kvm')} ${KVM_PROBE_OPTIONS}`.split(' ');
  const probe = spawnSync(platform.qemu, args, { input: 'quit\n', timeout: 30_000 });
  return probe.status === 0 ? undefined : /KVM cannot start a virtual CPU here; running under software emulation \(much slower\)/;
}

/** Checks a runner's stderr against expectedKvmNotice. */
export function kvmNoticeMatches(stderr: string, system: Guest): boolean {
  const notice = expectedKvmNotice(system);
  return notice === undefined ? !/running under software emulation/.test(stderr) : notice.test(stderr);
}
