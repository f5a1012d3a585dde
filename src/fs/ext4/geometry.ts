/**
 * Filesystem geometry: block groups, inodes per group, where the superblock backups and
 * the flex_bg metadata (bitmaps and inode tables, packed per 16 groups) go.
 */
import { ceilDiv } from '../../core/struct.js';
import { GROUP_DESCRIPTOR_SIZE } from './group-descriptor.js';
import { INODE_SIZE } from './inode.js';

export const BLOCK_SIZE = 4096;
export const BLOCKS_PER_GROUP = 8 * BLOCK_SIZE;
export const LOG_GROUPS_PER_FLEX = 4;
export const GROUPS_PER_FLEX = 1 << LOG_GROUPS_PER_FLEX;
/** mke2fs's default inode_ratio for ext4: one inode per 16 KiB. */
export const BYTES_PER_INODE = 16384;
const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
const MAX_INODES_PER_GROUP = 8 * BLOCK_SIZE;

/** A half-open block range [start, end). */
export interface BlockRange {
  readonly start: number;
  readonly end: number;
}

export interface GroupMetadata {
  readonly blockBitmap: number;
  readonly inodeBitmap: number;
  readonly inodeTable: number;
}

export interface Geometry {
  readonly blocks: number;
  readonly groups: number;
  readonly inodesPerGroup: number;
  readonly inodeTableBlocks: number;
  readonly gdtBlocks: number;
  readonly group: readonly GroupMetadata[];
  /** Superblock backups (with GDT copies) and flex metadata, sorted and merged. */
  readonly fixed: readonly BlockRange[];
  readonly backupGroups: readonly number[];
}

function isPowerOf(n: number, base: number): boolean {
  let p = base;
  while (p < n) p *= base;
  return p === n;
}

/** sparse_super: groups 0, 1 and the powers of 3, 5 and 7 carry superblock backups. */
export function hasSuperblockBackup(group: number): boolean {
  return group <= 1 || isPowerOf(group, 3) || isPowerOf(group, 5) || isPowerOf(group, 7);
}

export function groupBlocks(g: number, blocks: number): number {
  return Math.min(BLOCKS_PER_GROUP, blocks - g * BLOCKS_PER_GROUP);
}

/**
 * Lays out the metadata of a filesystem of `blocks` blocks holding at least
 * `minimumInodes` inodes. Returns undefined when the metadata itself cannot fit.
 */
export function computeGeometry(blocks: number, minimumInodes: number): Geometry | undefined {
  const groups = ceilDiv(blocks, BLOCKS_PER_GROUP);
  const wantedInodes = Math.max(Math.floor((blocks * BLOCK_SIZE) / BYTES_PER_INODE), minimumInodes);
  let inodesPerGroup = ceilDiv(ceilDiv(wantedInodes, groups), INODES_PER_BLOCK) * INODES_PER_BLOCK;
  if (inodesPerGroup > MAX_INODES_PER_GROUP) {
    if (ceilDiv(minimumInodes, groups) > MAX_INODES_PER_GROUP) return undefined;
    inodesPerGroup = MAX_INODES_PER_GROUP;
  }
  const inodeTableBlocks = inodesPerGroup / INODES_PER_BLOCK;
  const gdtBlocks = ceilDiv(groups * GROUP_DESCRIPTOR_SIZE, BLOCK_SIZE);

  const backupGroups: number[] = [];
  const backups: BlockRange[] = [];
  for (let g = 0; g < groups; g++) {
    if (!hasSuperblockBackup(g)) continue;
    const start = g * BLOCKS_PER_GROUP;
    if (1 + gdtBlocks > groupBlocks(g, blocks)) return undefined;
    backupGroups.push(g);
    backups.push({ start, end: start + 1 + gdtBlocks });
  }

  // Each flex group's bitmaps and inode tables are packed at the start of its first
  // group, skipping superblock backups; inode tables must each be contiguous.
  const taken: BlockRange[] = [...backups];
  const isTaken = (start: number, length: number): BlockRange | undefined =>
    taken.find((r) => start < r.end && r.start < start + length);
  const place = (from: number, length: number): number => {
    let at = from;
    for (;;) {
      const clash = isTaken(at, length);
      if (clash === undefined) break;
      at = clash.end;
    }
    taken.push({ start: at, end: at + length });
    return at;
  };
  const group: GroupMetadata[] = [];
  for (let leader = 0; leader < groups; leader += GROUPS_PER_FLEX) {
    const members = Math.min(GROUPS_PER_FLEX, groups - leader);
    const from = leader * BLOCKS_PER_GROUP;
    const blockBitmaps = Array.from({ length: members }, () => place(from, 1));
    const inodeBitmaps = Array.from({ length: members }, () => place(from, 1));
    const inodeTables = Array.from({ length: members }, () => place(from, inodeTableBlocks));
    for (let i = 0; i < members; i++) {
      group.push({ blockBitmap: blockBitmaps[i]!, inodeBitmap: inodeBitmaps[i]!, inodeTable: inodeTables[i]! });
    }
  }
  if (taken.some((r) => r.end > blocks)) return undefined;
  return {
    blocks,
    groups,
    inodesPerGroup,
    inodeTableBlocks,
    gdtBlocks,
    group,
    fixed: mergeRanges(taken),
    backupGroups,
  };
}

export function mergeRanges(ranges: readonly BlockRange[]): BlockRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: BlockRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) {
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    } else {
      out.push(r);
    }
  }
  return out;
}

/**
 * Hands out data blocks in ascending order, skipping the fixed metadata ranges. Every
 * block below the cursor is in use afterwards, so usage is "fixed ranges + [0, cursor)".
 */
export class BlockAllocator {
  private cursor = 0;
  private nextFixed = 0;

  constructor(private readonly fixed: readonly BlockRange[], private readonly limit: number) {}

  get end(): number {
    return this.cursor;
  }

  /** Allocates `count` blocks as runs of at most `maxRun`; false when the disk is full. */
  allocate(count: number, maxRun: number): { start: number; length: number }[] | undefined {
    const runs: { start: number; length: number }[] = [];
    let left = count;
    while (left > 0) {
      this.skipFixed();
      const fence = this.fixed[this.nextFixed]?.start ?? this.limit;
      const length = Math.min(left, fence - this.cursor, maxRun);
      if (length <= 0 || this.cursor >= this.limit) return undefined;
      const previous = runs[runs.length - 1];
      if (previous !== undefined && previous.start + previous.length === this.cursor && previous.length + length <= maxRun) {
        runs[runs.length - 1] = { start: previous.start, length: previous.length + length };
      } else {
        runs.push({ start: this.cursor, length });
      }
      this.cursor += length;
      left -= length;
    }
    return runs;
  }

  private skipFixed(): void {
    for (;;) {
      const r = this.fixed[this.nextFixed];
      if (r === undefined || this.cursor < r.start) return;
      if (this.cursor < r.end) this.cursor = r.end;
      this.nextFixed++;
    }
  }
}

/** Blocks in use inside [start, end): the fixed ranges plus everything below `cursor`. */
export function usedBlocksIn(start: number, end: number, fixed: readonly BlockRange[], cursor: number): number {
  let used = Math.max(0, Math.min(end, cursor) - start);
  for (const r of fixed) {
    const s = Math.max(r.start, start, cursor);
    const e = Math.min(r.end, end);
    if (e > s) used += e - s;
  }
  return used;
}
