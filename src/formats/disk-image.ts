/**
 * Turns an image plan plus the system closure into the disk's block image: the boot
 * partition's FAT from the bootloader files, the root ext4 from the closure, a GPT
 * around them. Sizes are exact: with diskSize "auto" the root filesystem is sized from
 * the closure listing plus additionalSpace; with a fixed size, a closure that does not
 * fit is reported before anything is written.
 */
import { composeImage, imageFromSegments, type BlockImage, type Placement } from '../core/block-image.js';
import { ImageError } from '../core/errors.js';
import { bootTree, readBootspec } from '../boot/index.js';
import { buildExt4, ext4MinimumBytes, Ext4TooSmallError, type Ext4Filesystem } from '../fs/ext4/index.js';
import { buildFat } from '../fs/fat/index.js';
import type { DirNode } from '../fs/tree.js';
import { nixosRootTree, type SystemClosure } from '../nix/root-tree.js';
import { gptSegments, GPT_BACKUP_SECTORS } from '../partition/gpt.js';
import { GPT_TYPE, SECTOR } from '../partition/types.js';
import type { ImagePlan, PartitionPlan } from '../plan/types.js';

const MIB = 1 << 20;
/** Space after the last partition: parted leaves the final MiB (holding the backup GPT) unused. */
export const GPT_TAIL_BYTES = MIB;

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
}

export function volumeIdNumber(text: string): number {
  return parseInt(text.replace('-', ''), 16) >>> 0;
}

function mib(bytes: number): number {
  return Math.ceil(bytes / MIB);
}

export async function buildDiskImage(plan: ImagePlan, closure: SystemClosure, epoch: number): Promise<DiskImage> {
  if (closure.toplevel !== plan.toplevel) {
    throw new ImageError('plan.toplevel-mismatch', `Cannot build the image: the plan is for "${plan.toplevel}" but the closure is of "${closure.toplevel}"`);
  }
  const bootspec = readBootspec(plan.toplevel);
  const partitions = [...plan.partitionTable.partitions].sort((a, b) => a.start - b.start);
  const rootPartition = partitions.find((p) => p.filesystem?.contents === 'root')!;
  const bootPartition = partitions.find((p) => p.filesystem?.contents === 'boot')!;
  const bootFs = bootPartition.filesystem;
  if (bootFs?.type !== 'vfat') throw new ImageError('plan.invalid', 'Cannot build the image: the boot partition must be vfat');
  const rootFsPlan = rootPartition.filesystem;
  if (rootFsPlan?.type !== 'ext4') throw new ImageError('plan.invalid', 'Cannot build the image: the root partition must be ext4');

  const rootTree: DirNode = await nixosRootTree(closure, epoch);
  const espTree = await bootTree(plan.bootloader, bootspec, bootFs.volumeId, epoch);

  const partitionEnd = (p: PartitionPlan, rootBytes: number): number => p.start + (p === rootPartition && p.size === 'auto' ? rootBytes : (p.size as number));
  const diskFor = (rootBytes: number): number => Math.max(...partitions.map((p) => partitionEnd(p, rootBytes))) + GPT_TAIL_BYTES;
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
    if (rootPartition.size === 'auto') {
      rootFs = buildExt4(rootTree, { ...ext4Options, headroomBytes: plan.additionalSpace * MIB });
      rootSize = rootFs.sizeBytes;
    } else {
      rootSize = rootPartition.size;
    }
    diskBytes = diskFor(rootSize);
  } else {
    diskBytes = plan.diskSize * MIB;
    rootSize = rootPartition.size === 'auto'
      ? Math.floor((diskBytes - GPT_TAIL_BYTES - rootPartition.start) / 4096) * 4096
      : rootPartition.size;
    if (rootSize <= 0 || diskFor(rootSize) > diskBytes) throw tooSmall(ext4MinimumBytes(rootTree, epoch));
  }
  if (rootFs === undefined) {
    try {
      rootFs = buildExt4(rootTree, { ...ext4Options, sizeBytes: rootSize });
    } catch (error) {
      if (error instanceof Ext4TooSmallError) throw tooSmall(error.neededBytes);
      throw error;
    }
  }

  const totalSectors = diskBytes / SECTOR;
  const placements: Placement[] = [];
  const layout: DiskLayoutPartition[] = [];
  for (const p of partitions) {
    const size = p === rootPartition ? rootSize : (p.size as number);
    layout.push({ name: p.name, start: p.start, size, filesystem: p.filesystem?.type });
    if (p === rootPartition) {
      placements.push({ offset: p.start, image: rootFs.image });
    } else if (p.filesystem?.type === 'vfat') {
      placements.push({
        offset: p.start,
        image: buildFat(espTree, {
          sizeBytes: size,
          label: p.filesystem.label,
          volumeId: volumeIdNumber(p.filesystem.volumeId),
          hiddenSectors: p.start / SECTOR,
        }),
      });
    }
  }
  const gpt = gptSegments({
    totalSectors,
    diskGuid: plan.partitionTable.diskGuid,
    partitions: plan.partitionTable.partitions.map((p) => {
      const size = p === rootPartition ? rootSize : (p.size as number);
      return {
        name: p.name,
        typeGuid: GPT_TYPE[p.type],
        guid: p.guid,
        firstLba: p.start / SECTOR,
        lastLba: (p.start + size) / SECTOR - 1,
      };
    }),
  });
  const firstPartition = partitions[0]!.start;
  const head = imageFromSegments(firstPartition, gpt.filter((s) => s.offset < firstPartition));
  const tailStart = (totalSectors - GPT_BACKUP_SECTORS) * SECTOR;
  const tail = imageFromSegments(GPT_BACKUP_SECTORS * SECTOR, gpt.filter((s) => s.offset >= tailStart).map((s) => ({ ...s, offset: s.offset - tailStart })));
  placements.push({ offset: 0, image: head }, { offset: tailStart, image: tail });
  return { image: composeImage(diskBytes, placements), partitions: layout, rootUsedBytes: rootFs.usedBytes };
}
