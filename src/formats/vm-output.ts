/**
 * Writes a vm plan's files: the runner (bin/run-<name>-vm) and the disk it needs, either
 * the system image it boots (vm-bootloader: make-disk-image's nixos.qcow2, written by the
 * disk writers) or the empty ext4 labelled nixos that it copies to $NIX_DISK_IMAGE on
 * first run (vm, vm-nogui: what qemu-vm.nix's runner makes with mkfs.ext4 there).
 */
import { createHash } from 'node:crypto';
import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from '../core/errors.js';
import type { OutputFile } from '../core/output-file.js';
import type { PhasedControl } from '../core/progress.js';
import { writeQcow2 } from '../container/qcow2.js';
import { buildExt4 } from '../fs/ext4/index.js';
import { dir } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import type { SystemClosure } from '../nix/root-tree.js';
import type { VmPlan } from '../plan/types.js';
import { buildDiskImage } from './disk-image.js';
import { toplevelSystem } from './toplevel-plan.js';
import { RUNNER_PLATFORMS, vmRunnerScript, VM_EMPTY_DISK, VM_SYSTEM_LINK } from './vm-runner-script.js';

const MIB = 1 << 20;
/** nixos-generators' formats/vm.nix default (virtualisation.diskSize = mkDefault 2048), used for "auto". */
export const VM_DEFAULT_DISK_MIB = 2048;

/** A fixed UUID for the empty filesystem, from the system and the format (mkfs would pick a random one). */
function emptyDiskUuid(plan: VmPlan): string {
  const hex = createHash('sha256').update(`${plan.toplevel}:${plan.format}:${VM_EMPTY_DISK}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Writes the runner into `runner` and the disk into a file from `create`; returns the
 * system the toplevel is for.
 */
export async function writeVmFiles(
  plan: VmPlan,
  closure: SystemClosure,
  scope: ClosureScope,
  runner: OutputFile,
  create: (name: string) => OutputFile,
  epoch: number,
  control: PhasedControl,
): Promise<{ system: string }> {
  const system = toplevelSystem(plan.toplevel);
  const platform = RUNNER_PLATFORMS[system];
  if (platform === undefined) {
    throw new ImageError('vm.system', `Cannot write a runner for ${plan.format}: the system is ${system}, and the runner starts QEMU for ${Object.keys(RUNNER_PLATFORMS).join(' and ')} only`, {
      hint: `build the vm formats for ${Object.keys(RUNNER_PLATFORMS).join(' or ')}`,
    });
  }
  runner.writeAt(0, new TextEncoder().encode(vmRunnerScript(plan, platform)));
  if (plan.disk !== null) {
    const disk = await buildDiskImage(plan.disk, closure, epoch, scope);
    await writeQcow2(disk.image, create(plan.disk.output.fileName), {}, control);
  } else if (plan.vm.diskImage !== null) {
    const mib = plan.vm.diskSize === 'auto' ? VM_DEFAULT_DISK_MIB : plan.vm.diskSize;
    const empty = buildExt4(dir({ permissions: 0o755, uid: 0, gid: 0, mtime: epoch }), { label: 'nixos', uuid: emptyDiskUuid(plan), epoch, sizeBytes: mib * MIB });
    await writeQcow2(empty.image, create(VM_EMPTY_DISK), {}, control);
  }
  return { system };
}

/** system -> <toplevel>, as qemu-vm.nix's output has it, replacing what is there in one rename. */
export function linkVmSystem(plan: VmPlan, outputDir: string): void {
  const link = join(outputDir, VM_SYSTEM_LINK);
  const temporary = `${link}.tmp-${process.pid}`;
  try {
    rmSync(temporary, { force: true });
    symlinkSync(plan.toplevel, temporary);
    renameSync(temporary, link);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new ImageError('output.rename', `Cannot create "${link}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'remove what is in the way or choose another place with -o',
    });
  }
}
