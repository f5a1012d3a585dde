/**
 * Turns an image plan plus the system closure into the disk's block image: the boot
 * files (on the ESP, or under the root filesystem's /boot), the root ext4 from the
 * closure, GRUB's BIOS core in the MBR gap or the BIOS boot partition, and the partition
 * table. Sizes are exact: with diskSize "auto" the root filesystem is sized from the
 * closure listing plus additionalSpace; with a fixed size, a closure that does not fit is
 * reported before anything is written.
 */
import { composeImage, imageFromBytes, imageFromSegments, type BlockImage, type Placement, type Segment } from '../core/block-image.js';
import { ImageError } from '../core/errors.js';
import { bootFileRole, bootFiles, readBootspec, type Bootspec, type GrubLocation } from '../boot/index.js';
import { closureScope, type ClosureScope } from '../nix/closure-scope.js';
import { bootCode, placedCore } from '../boot/grub-bios.js';
import { buildExt4, ext4MinimumBytes, Ext4TooSmallError, type Ext4Filesystem } from '../fs/ext4/index.js';
import { buildFat } from '../fs/fat/index.js';
import { childrenOf, dir, scanHostTree, type DirNode, type TreeNode } from '../fs/tree.js';
import { nixosRootTree, type StoreListing, type SystemClosure } from '../nix/root-tree.js';
import { gptSegments, GPT_BACKUP_SECTORS } from '../partition/gpt.js';
import { encodeMbr } from '../partition/mbr.js';
import { GPT_TYPE, MBR_TYPE, SECTOR } from '../partition/types.js';
import { planPartitions } from '../plan/index.js';
import type { Ext4Plan, ImagePlan, PartitionPlan } from '../plan/types.js';

const MIB = 1 << 20;

export interface DiskLayoutPartition {
  readonly name: string;
  readonly start: number;
  readonly size: number;
  readonly filesystem: string | undefined;
}

export interface DiskImage {
  readonly image: BlockImage;
  readonly partitions: readonly DiskLayoutPartition[];
  readonly rootUsedBytes: number;
  /** The system the bootspec names, for example x86_64-linux. */
  readonly system: string;
}

export function volumeIdNumber(text: string): number {
  return parseInt(text.replace('-', ''), 16) >>> 0;
}

function mib(bytes: number): number {
  return Math.ceil(bytes / MIB);
}

/** 2000-01-01 00:00:00 UTC: the date sd-image.nix gives every file and directory of the FIRMWARE partition. */
const FIRMWARE_TIME = 946684800;

/** The files of a firmware partition: a store directory's tree (empty without one), every entry dated as sd-image.nix dates them. */
function firmwareTree(source: string | undefined, scope: ClosureScope): DirNode {
  const stamp = (node: TreeNode): TreeNode => {
    if (node.kind !== 'dir') return { ...node, mtime: FIRMWARE_TIME };
    return dir({ permissions: node.permissions, uid: 0, gid: 0, mtime: FIRMWARE_TIME }, childrenOf(node).map(([name, child]) => [name, stamp(child)]));
  };
  if (source === undefined) return dir({ permissions: 0o755, uid: 0, gid: 0, mtime: FIRMWARE_TIME });
  scope.require(source, 'the firmware partition\'s files');
  const tree = scanHostTree(source, { maxTime: FIRMWARE_TIME, uid: 0, gid: 0 });
  if (tree.kind !== 'dir') throw new ImageError('firmware.not-directory', `Cannot fill the firmware partition from "${source}": it is not a directory`);
  return stamp(tree) as DirNode;
}

/** Space after the last partition: GPT disks keep their final MiB (the backup GPT) unused, as parted does. */
function tailBytes(plan: ImagePlan): number {
  return plan.partitionTable.type === 'gpt' ? MIB : 0;
}

/** Every boot entry's kernel and initrd must be the system's own, even where only grub.cfg names them. */
export function checkBootspecInScope(bootspec: Bootspec, scope: ClosureScope): void {
  for (const entry of [bootspec, ...bootspec.specialisations.values()]) {
    scope.require(entry.toplevel, `the toplevel of the bootspec of "${bootspec.toplevel}"`);
    scope.require(entry.kernel, bootFileRole('kernel', entry));
    if (entry.initrd !== undefined) scope.require(entry.initrd, bootFileRole('initrd', entry));
  }
}

/**
 * `scope` is where boot files may come from: the closure, plus the bootloader packages
 * the plan names when Nix built them outside the system's closure. `store` says how the
 * closure's store paths are listed.
 */
export async function buildDiskImage(plan: ImagePlan, closure: SystemClosure, epoch: number, scope: ClosureScope = closureScope(closure), store: StoreListing = {}): Promise<DiskImage> {
  if (closure.toplevel !== plan.toplevel) {
    throw new ImageError('plan.toplevel-mismatch', `Cannot build the image: the plan is for "${plan.toplevel}" but the closure is of "${closure.toplevel}"`);
  }
  const bootspec = readBootspec(plan.toplevel);
  checkBootspecInScope(bootspec, closureScope(closure));
  const table = plan.partitionTable;
  const partitions = [...planPartitions(plan)].sort((a, b) => a.start - b.start);
  const rootPartition = partitions.find((p) => p.filesystem?.contents === 'root');
  const rootFsPlan = (table.type === 'none' ? table.filesystem : rootPartition?.filesystem) as Ext4Plan;
  const espPartition = partitions.find((p) => p.filesystem?.contents === 'boot');
  const esp = espPartition?.filesystem?.type === 'vfat' ? espPartition.filesystem : undefined;

  const location: GrubLocation = esp !== undefined
    ? { on: 'esp', uuid: esp.volumeId }
    : { on: 'root', uuid: rootFsPlan.uuid.toLowerCase() };
  // grub-mkimage runs while the root filesystem is laid out: only a /boot on the root
  // filesystem is needed before that, and core.img only once the disk is assembled.
  const bootReady = bootFiles(plan.bootloader, bootspec, location, scope, epoch);
  bootReady.catch(() => undefined);
  const bootOnRoot = location.on === 'root' ? (await bootReady).tree : undefined;
  const rootTree: DirNode = await nixosRootTree(closure, epoch, bootOnRoot, rootFsPlan.registrationFile, store);

  const tail = tailBytes(plan);
  const rootStart = rootPartition?.start ?? 0;
  const rootAuto = rootPartition === undefined || rootPartition.size === 'auto';
  const partitionEnd = (p: PartitionPlan, rootBytes: number): number =>
    p.start + (p === rootPartition && rootAuto ? rootBytes : (p.size as number));
  const diskFor = (rootBytes: number): number =>
    Math.max(rootStart + rootBytes, ...partitions.map((p) => partitionEnd(p, rootBytes))) + tail;
  const ext4Options = { label: rootFsPlan.label, uuid: rootFsPlan.uuid, epoch };
  const tooSmall = (neededRootBytes: number): ImageError => {
    const needed = mib(diskFor(neededRootBytes));
    return new ImageError('disk.too-small', `Cannot build ${plan.format} in a ${String(plan.diskSize)} MiB disk: it needs at least ${needed} MiB`, {
      hint: `pass --disk-size ${needed} or more, or --disk-size auto`,
    });
  };

  let diskBytes: number;
  let rootSize: number;
  let rootFs: Ext4Filesystem | undefined;
  if (plan.diskSize === 'auto') {
    if (rootAuto) {
      rootFs = buildExt4(rootTree, { ...ext4Options, headroomBytes: plan.additionalSpace * MIB });
      rootSize = rootFs.sizeBytes;
    } else {
      rootSize = rootPartition!.size as number;
    }
    diskBytes = diskFor(rootSize);
  } else {
    diskBytes = plan.diskSize * MIB;
    rootSize = rootAuto ? Math.floor((diskBytes - tail - rootStart) / 4096) * 4096 : (rootPartition!.size as number);
    if (rootSize <= 0 || diskFor(rootSize) > diskBytes) throw tooSmall(ext4MinimumBytes(rootTree, epoch, ext4Options.uuid));
  }
  if (rootFs === undefined) {
    try {
      rootFs = buildExt4(rootTree, { ...ext4Options, sizeBytes: rootSize });
    } catch (error) {
      if (error instanceof Ext4TooSmallError) throw tooSmall(error.neededBytes);
      throw error;
    }
  }
  if (table.type === 'none') {
    return { image: rootFs.image, partitions: [{ name: 'nixos', start: 0, size: rootSize, filesystem: 'ext4' }], rootUsedBytes: rootFs.usedBytes, system: bootspec.system };
  }

  const boot = await bootReady;
  const sizeOf = (p: PartitionPlan): number => (p === rootPartition ? rootSize : (p.size as number));
  const placements: Placement[] = [];
  for (const p of partitions) {
    if (p === rootPartition) {
      placements.push({ offset: p.start, image: rootFs.image });
    } else if (p.filesystem?.type === 'vfat' && p.filesystem.contents === 'firmware') {
      // sd-image.nix formats the partition as a file of its own (no hidden sectors).
      placements.push({
        offset: p.start,
        image: buildFat(firmwareTree(p.filesystem.source, scope), { sizeBytes: sizeOf(p), label: p.filesystem.label, volumeId: volumeIdNumber(p.filesystem.volumeId) }),
      });
    } else if (p.filesystem?.type === 'vfat') {
      placements.push({
        offset: p.start,
        image: buildFat(boot.tree, { sizeBytes: sizeOf(p), label: p.filesystem.label, volumeId: volumeIdNumber(p.filesystem.volumeId), hiddenSectors: p.start / SECTOR }),
      });
    }
  }

  const code = boot.bios === undefined ? undefined : placeBiosCore(plan, partitions, { core: await boot.bios.core, bootImg: boot.bios.bootImg }, sizeOf, placements);
  const totalSectors = diskBytes / SECTOR;
  let tableSegments: Segment[];
  if (table.type === 'gpt') {
    tableSegments = gptSegments({
      totalSectors,
      diskGuid: table.diskGuid,
      partitions: table.partitions.map((p) => ({
        name: p.name,
        typeGuid: GPT_TYPE[p.type],
        guid: p.guid!,
        firstLba: p.start / SECTOR,
        lastLba: (p.start + sizeOf(p)) / SECTOR - 1,
      })),
      ...(code === undefined ? {} : { bootCode: code }),
    });
  } else {
    if (diskBytes / SECTOR > 0xffffffff) {
      throw new ImageError('mbr.disk-too-big', `Cannot describe a ${mib(diskBytes)} MiB disk with an MBR: at most 2 TiB`, { hint: 'use a GPT layout' });
    }
    tableSegments = [{
      offset: 0,
      length: SECTOR,
      source: {
        kind: 'bytes',
        bytes: encodeMbr({
          diskSignature: parseInt(table.diskSignature, 16),
          entries: table.partitions.map((p) => ({ bootable: p.bootable === true, type: MBR_TYPE[p.type], firstLba: p.start / SECTOR, sectors: sizeOf(p) / SECTOR })),
          ...(code === undefined ? {} : { bootCode: code }),
        }),
      },
    }];
  }
  const firstPartition = Math.min(...partitions.map((p) => p.start));
  const headEnd = placements.filter((p) => p.offset < firstPartition).reduce((end, p) => Math.min(end, p.offset), firstPartition);
  placements.push({ offset: 0, image: imageFromSegments(headEnd, tableSegments.filter((s) => s.offset < headEnd)) });
  if (table.type === 'gpt') {
    const tailStart = (totalSectors - GPT_BACKUP_SECTORS) * SECTOR;
    placements.push({
      offset: tailStart,
      image: imageFromSegments(GPT_BACKUP_SECTORS * SECTOR, tableSegments.filter((s) => s.offset >= tailStart).map((s) => ({ ...s, offset: s.offset - tailStart }))),
    });
  }
  return {
    image: composeImage(diskBytes, placements),
    partitions: partitions.map((p) => ({ name: p.name, start: p.start, size: sizeOf(p), filesystem: p.filesystem?.type })),
    rootUsedBytes: rootFs.usedBytes,
    system: bootspec.system,
  };
}

/**
 * Places GRUB's i386-pc core in the BIOS boot partition (GPT) or the gap after the MBR,
 * and returns the boot code for sector 0 that loads it.
 */
function placeBiosCore(
  plan: ImagePlan,
  partitions: readonly PartitionPlan[],
  bios: { readonly core: Uint8Array; readonly bootImg: Uint8Array },
  sizeOf: (p: PartitionPlan) => number,
  placements: Placement[],
): Uint8Array {
  let coreLba: number;
  let available: number;
  const biosBoot = partitions.find((p) => p.type === 'bios-boot');
  if (plan.partitionTable.type === 'gpt') {
    if (biosBoot === undefined) throw new ImageError('plan.invalid', `Cannot install GRUB for BIOS in ${plan.format}: the GPT disk has no bios-boot partition`);
    coreLba = biosBoot.start / SECTOR;
    available = sizeOf(biosBoot) / SECTOR;
  } else {
    coreLba = 1;
    available = Math.min(...partitions.map((p) => p.start)) / SECTOR - 1;
  }
  const core = placedCore(bios.core, coreLba, available);
  placements.push({ offset: coreLba * SECTOR, image: imageFromBytes(core) });
  return bootCode(bios.bootImg, coreLba);
}
