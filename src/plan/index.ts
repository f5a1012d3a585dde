/** Parsing and checking image plans. */
import { ImageError } from '../core/errors.js';
import { imagePlanSchema } from './schema.js';
import { isKexecPlan, isLivePlan, isTarballPlan, isVmPlan, type AnyImagePlan, type ImagePlan, type KexecPlan, type LivePlan, type PartitionPlan, type TarballContentsPlan, type TarballPlan, type VmPlan } from './types.js';
import { validate, type JsonSchema } from './validate.js';

export type * from './types.js';
export { isDiskPlan, isKexecPlan, isLivePlan, isTarballPlan, isVmPlan } from './types.js';
export { imagePlanSchema } from './schema.js';
export { imageRoots } from './roots.js';

/** The plan's partitions in table order ([] for a bare filesystem). */
export function planPartitions(plan: Pick<ImagePlan, 'partitionTable'>): readonly PartitionPlan[] {
  return plan.partitionTable.type === 'none' ? [] : plan.partitionTable.partitions;
}

/** Validates a parsed plan against the schema and the rules a schema cannot say. */
export function checkPlan(value: unknown, origin: string): AnyImagePlan {
  const fail = (message: string): never => {
    throw new ImageError('plan.invalid', `Cannot use the image plan from ${origin}: ${message}`, {
      hint: 'see docs/image-plan.md for the fields',
    });
  };
  const error = validate(value, imagePlanSchema as unknown as JsonSchema);
  if (error !== undefined) fail(error);
  const any = value as AnyImagePlan;
  if (isLivePlan(any)) return checkLivePlan(any, fail);
  if (isTarballPlan(any)) return checkTarballPlan(any, fail);
  if (isKexecPlan(any)) return checkKexecPlan(any, fail);
  if (isVmPlan(any)) return checkVmPlan(any, fail);
  return checkDiskPlan(any, fail);
}

function checkVmPlan(plan: VmPlan, fail: (message: string) => never): VmPlan {
  if ((plan.disk === null) === (plan.vm.directBoot === null)) fail('a vm plan boots either its kernel directly (vm.directBoot) or its disk (disk), exactly one');
  if (plan.disk !== null) {
    if (plan.disk.toplevel !== plan.toplevel) fail(`disk.toplevel "${plan.disk.toplevel}" is not the plan's toplevel "${plan.toplevel}"`);
    if (plan.vm.diskImage === null) fail('a vm plan with a disk needs vm.diskImage, the overlay the runner creates');
    checkDiskPlan(plan.disk, (message) => fail(`disk: ${message}`));
  }
  const tags = plan.vm.shares.map((s) => s.tag);
  if (new Set(tags).size !== tags.length) fail('vm.shares names a mount tag twice');
  return plan;
}

function checkDiskPlan(plan: ImagePlan, fail: (message: string) => never): ImagePlan {
  const partitions = planPartitions(plan);
  if (partitions.length > 0) {
    const last = [...partitions].sort((a, b) => a.start - b.start).at(-1)!;
    const autos = partitions.filter((p) => p.size === 'auto');
    if (autos.length > 1 || (autos.length === 1 && autos[0] !== last)) fail('only the last partition on the disk may have size "auto"');
    for (const p of partitions) {
      if (p.start % 512 !== 0) fail(`partition "${p.name}" starts at ${p.start}, not a multiple of 512`);
      if (typeof p.size === 'number' && p.size % 512 !== 0) fail(`partition "${p.name}" is ${p.size} bytes, not a multiple of 512`);
    }
    const roots = partitions.filter((p) => p.filesystem?.contents === 'root');
    if (roots.length !== 1) fail(`expected exactly one partition with the root filesystem, found ${roots.length}`);
    if (partitions.filter((p) => p.filesystem?.contents === 'boot').length > 1) fail('expected at most one partition with the boot filesystem (the ESP)');
  }
  const hasEsp = partitions.some((p) => p.filesystem?.contents === 'boot');
  const boot = plan.bootloader;
  if (boot.type === 'systemd-boot' && !hasEsp) fail('systemd-boot needs a boot (vfat) partition');
  if (boot.type === 'grub' && boot.efi !== null && !hasEsp) fail('GRUB for UEFI needs a boot (vfat) partition');
  if (boot.type === 'extlinux' && hasEsp) fail('extlinux keeps its files under the root filesystem\'s /boot; a boot (vfat) partition would hide them');
  for (const p of partitions) {
    const fs = p.filesystem;
    if (fs?.type === 'vfat' && fs.contents === 'boot' && fs.source !== undefined) fail(`partition "${p.name}": a boot partition holds the boot files, not a source directory`);
  }
  if (boot.type === 'grub' && boot.bios !== null) {
    const table = plan.partitionTable;
    if (table.type === 'none') fail('GRUB for BIOS needs a partition table (an MBR gap or a BIOS boot partition)');
    if (table.type === 'gpt' && !table.partitions.some((p) => p.type === 'bios-boot')) fail('GRUB for BIOS on a GPT disk needs a bios-boot partition');
  }
  const out = plan.output;
  const need = (field: keyof typeof out, container: string): void => {
    if (out.container === container && out[field] === undefined) fail(`output.${String(field)} is required for the ${container} container`);
  };
  need('vhd', 'vhd');
  need('vmdk', 'vmdk');
  need('virtualMachine', 'ova');
  need('virtualMachine', 'vagrant-box');
  need('proxmox', 'vma');
  if (out.compression !== 'none' && !['raw', 'qcow2', 'vma'].includes(out.container)) {
    fail(`output.compression "${out.compression}" applies to raw, qcow2 and vma containers, not ${out.container}`);
  }
  return plan;
}

function checkLivePlan(plan: LivePlan, fail: (message: string) => never): LivePlan {
  const { live } = plan;
  if (live.usb && live.bios === null) fail('live.usb needs live.bios: the isohybrid MBR starts isolinux');
  const targets = new Set<string>();
  for (const { target } of live.contents) {
    if (target.split('/').some((part) => part === '..')) fail(`live.contents target "${target}" leaves the ISO's root`);
    if (targets.has(target)) fail(`live.contents names the target "${target}" twice`);
    targets.add(target);
  }
  return plan;
}

function checkTarballPlan<P extends TarballPlan | KexecPlan>(plan: P, fail: (message: string) => never): P {
  checkTarballContents(plan.tarball, fail);
  return plan;
}

function checkTarballContents(tarball: TarballContentsPlan, fail: (message: string) => never): void {
  const paths = [...tarball.contents.map((c) => c.target), ...tarball.symlinks.map((s) => s.path), ...tarball.commands.map((c) => c.path)];
  for (const path of paths) {
    if (path.split('/').some((part) => part === '..')) fail(`tarball path "${path}" leaves the tar root`);
  }
}

function checkKexecPlan(plan: KexecPlan, fail: (message: string) => never): KexecPlan {
  const { kexec, output } = plan;
  if (plan.tarball.storePaths.length !== 1 || plan.tarball.storePaths[0] !== kexec.script.path) {
    fail(`tarball.storePaths must be exactly the kexec script "${kexec.script.path}"`);
  }
  if ((output.container === 'kexec-bundle') !== (output.stub !== undefined)) fail('output.stub is required for, and only for, the kexec-bundle container');
  const skeleton = [...kexec.ramdiskSkeleton.directories, ...kexec.ramdiskSkeleton.symlinks.map((s) => s.path)];
  for (const path of skeleton) {
    if (path.split('/').some((part) => part === '..' || part === '')) fail(`kexec.ramdiskSkeleton path "${path}" is not a plain relative path`);
    if (path === 'nix' || path.startsWith('nix/') || path === 'nix-store.squashfs') fail(`kexec.ramdiskSkeleton path "${path}" collides with the squashfs`);
  }
  return checkTarballPlan(plan, fail);
}

export function parsePlanJson(text: string, origin: string): AnyImagePlan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImageError('plan.not-json', `Cannot read the image plan from ${origin}: ${(error as Error).message}`);
  }
  return checkPlan(value, origin);
}
