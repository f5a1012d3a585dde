/**
 * Extent trees (format-specs §8.5): up to four extents live in the inode; more need one
 * level of leaf blocks indexed from the inode (up to 4 x 340 extents, 170 GiB in 128 MiB
 * extents), each leaf ending with a metadata_csum tail.
 */
import { crc32cUpdate } from '../../core/checksum.js';
import { ImageError } from '../../core/errors.js';

export const EXTENT_MAGIC = 0xf30a;
/** Longest initialized extent, in blocks. */
export const MAX_EXTENT_BLOCKS = 32768;
const IN_INODE = 4;

export interface Extent {
  /** First logical block of the file. */
  readonly logical: number;
  /** First physical block. */
  readonly start: number;
  readonly length: number;
}

export function leafCapacity(blockSize: number): number {
  return Math.floor((blockSize - 12) / 12);
}

/** Number of leaf blocks a file with `count` extents needs (0 when they fit in the inode). */
export function leafBlocksNeeded(count: number, blockSize: number): number {
  if (count <= IN_INODE) return 0;
  const leaves = Math.ceil(count / leafCapacity(blockSize));
  if (leaves > IN_INODE) {
    throw new ImageError('ext4.file-too-fragmented', `Cannot map a file of ${count} extents: at most ${IN_INODE * leafCapacity(blockSize)} are supported`);
  }
  return leaves;
}

function header(v: DataView, at: number, entries: number, max: number, depth: number): void {
  v.setUint16(at, EXTENT_MAGIC, true);
  v.setUint16(at + 2, entries, true);
  v.setUint16(at + 4, max, true);
  v.setUint16(at + 6, depth, true);
  v.setUint32(at + 8, 0, true);
}

function leafEntry(v: DataView, at: number, e: Extent): void {
  v.setUint32(at, e.logical, true);
  v.setUint16(at + 4, e.length, true);
  v.setUint16(at + 6, Math.floor(e.start / 2 ** 32), true);
  v.setUint32(at + 8, e.start % 2 ** 32, true);
}

export interface ExtentTree {
  /** The 60-byte i_block contents. */
  readonly root: Uint8Array;
  /** Leaf blocks (empty for depth 0), to be written at `leafBlocks[i]`. */
  readonly leaves: Uint8Array[];
}

/** Where a file's extents are: their tree's root is encoded from this (encodeExtentRoot). */
export interface ExtentRoot {
  readonly extents: readonly Extent[];
  /** The physical blocks of its leaves (leafBlocksNeeded of them). */
  readonly leafBlocks: readonly number[];
}

/** Writes the 60-byte i_block root of the tree of `root` at `at`: its extents, or an index of its leaves. */
export function encodeExtentRoot(v: DataView, at: number, root: ExtentRoot, blockSize: number): void {
  const { extents, leafBlocks } = root;
  if (extents.length <= IN_INODE) {
    header(v, at, extents.length, IN_INODE, 0);
    for (let i = 0; i < extents.length; i++) leafEntry(v, at + 12 + 12 * i, extents[i]!);
    return;
  }
  const capacity = leafCapacity(blockSize);
  header(v, at, leafBlocks.length, IN_INODE, 1);
  for (let i = 0; i < leafBlocks.length; i++) {
    const physical = leafBlocks[i]!;
    const entry = at + 12 + 12 * i;
    v.setUint32(entry, extents[i * capacity]!.logical, true);
    v.setUint32(entry + 4, physical % 2 ** 32, true);
    v.setUint16(entry + 8, Math.floor(physical / 2 ** 32), true);
  }
}

/**
 * Builds the tree for extents sorted by logical block. `leafBlocks` are the physical
 * blocks reserved for leaves (leafBlocksNeeded of them); `seed` is the inode's csum seed.
 */
export function buildExtentTree(extents: readonly Extent[], leafBlocks: readonly number[], blockSize: number, seed: number): ExtentTree {
  const root = new Uint8Array(60);
  encodeExtentRoot(new DataView(root.buffer), 0, { extents, leafBlocks }, blockSize);
  if (extents.length <= IN_INODE) return { root, leaves: [] };
  const capacity = leafCapacity(blockSize);
  const leaves = leafBlocks.map((_, i) => {
    const part = extents.slice(i * capacity, (i + 1) * capacity);
    const block = new Uint8Array(blockSize);
    const v = new DataView(block.buffer);
    header(v, 0, part.length, capacity, 0);
    part.forEach((e, j) => leafEntry(v, 12 + 12 * j, e));
    const tail = 12 + 12 * capacity;
    v.setUint32(tail, crc32cUpdate(seed, block, 0, tail), true);
    return block;
  });
  return { root, leaves };
}
