/**
 * Hashed directory index (htree, format-specs §8.5): block 0 is the dx_root ("." and
 * ".." records, then the root info and its index entries), the leaves follow (entry
 * blocks, directory.ts, sorted by name hash), then the dx_node blocks of the one
 * interior level when the root cannot point at every leaf. Each index block ends with a
 * dx_tail checksum. Laid out as `e2fsck -D` rebuilds a directory (e2fsprogs
 * e2fsck/rehash.c): leaves keep a fifth of their space free, interior blocks are filled
 * in order, so e2fsck has nothing to optimise.
 */
import { crc32cUpdate } from '../../core/checksum.js';
import { ImageError } from '../../core/errors.js';
import { directoryHash, HASH_HALF_MD4 } from './dir-hash.js';
import { blockStarts, encodeEntryBlocks, usableBytes, FT_DIR, type DirEntry } from './directory.js';

const ROOT_COUNT_OFFSET = 32;
const NODE_COUNT_OFFSET = 8;
const ENTRY_SIZE = 8;
const DX_TAIL = 8;
const ROOT_INFO_LENGTH = 8;
/** e2fsck's indexed_dir_slack_percentage default. */
const LEAF_SLACK_PERCENT = 20;
/** Without the largedir feature the kernel follows at most one interior level. */
const MAX_INDIRECT_LEVELS = 1;

export function rootLimit(blockSize: number): number {
  return Math.floor((blockSize - ROOT_COUNT_OFFSET - DX_TAIL) / ENTRY_SIZE);
}

export function nodeLimit(blockSize: number): number {
  return Math.floor((blockSize - NODE_COUNT_OFFSET - DX_TAIL) / ENTRY_SIZE);
}

export interface HashTree {
  /** The children (no "." or ".."), in hash order. */
  readonly entries: readonly DirEntry[];
  /** Major hash of each entry, in the same order. */
  readonly hashes: Uint32Array;
  /** First entry of each leaf. */
  readonly leafStarts: readonly number[];
  readonly indirectLevels: number;
  /** Root, leaves and interior blocks. */
  readonly blocks: number;
}

/** Sorts the children by (hash, minor hash, name) and packs them into leaves. */
export function planHashTree(children: readonly DirEntry[], blockSize: number, seed: Uint32Array, path: string): HashTree {
  const count = children.length;
  const major = new Uint32Array(count);
  const minor = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const h = directoryHash(children[i]!.name, seed);
    major[i] = h.hash;
    minor[i] = h.minor;
  }
  const order = Array.from({ length: count }, (_, i) => i);
  order.sort((a, b) => {
    if (major[a] !== major[b]) return major[a]! - major[b]!;
    if (minor[a] !== minor[b]) return minor[a]! - minor[b]!;
    // Latin1 strings compare as their bytes, a prefix first, as memcmp then length does.
    const [x, y] = [children[a]!.name, children[b]!.name];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const entries = order.map((i) => children[i]!);
  const hashes = Uint32Array.from(order, (i) => major[i]!);
  const leafStarts = blockStarts(entries, blockSize, Math.floor((usableBytes(blockSize) * LEAF_SLACK_PERCENT) / 100));
  const leaves = leafStarts.length;
  let indirectLevels = 0;
  let nodes = 0;
  if (leaves > rootLimit(blockSize)) {
    indirectLevels = 1;
    nodes = Math.ceil(leaves / nodeLimit(blockSize));
    if (nodes > rootLimit(blockSize) || indirectLevels > MAX_INDIRECT_LEVELS) {
      throw new ImageError('ext4.dir-too-large', `Cannot index the directory "${path}" of ${count} entries: ext4 without largedir indexes at most ${rootLimit(blockSize) * nodeLimit(blockSize)} blocks`);
    }
  }
  return { entries, hashes, leafStarts, indirectLevels, blocks: 1 + leaves + nodes };
}

/**
 * The hash an index entry gives a leaf: its first entry's, with bit 0 set when the
 * previous leaf ends with the same hash (the lookup must then go on into this leaf).
 */
function leafHash(tree: HashTree, leaf: number): number {
  const first = tree.leafStarts[leaf]!;
  const hash = tree.hashes[first]!;
  return first > 0 && tree.hashes[first - 1] === hash ? (hash | 1) >>> 0 : hash;
}

/** Writes one index block's count, limit and entries (the first entry's hash is the count and limit), then its dx_tail checksum. */
function writeIndex(
  out: Uint8Array, base: number, countOffset: number, limit: number,
  targets: readonly { block: number; hash: number }[], seed: number,
): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const at = base + countOffset;
  targets.forEach((t, i) => {
    if (i > 0) v.setUint32(at + i * ENTRY_SIZE, t.hash, true);
    v.setUint32(at + i * ENTRY_SIZE + 4, t.block, true);
  });
  v.setUint16(at, limit, true);
  v.setUint16(at + 2, targets.length, true);
  const tail = at + limit * ENTRY_SIZE;
  let crc = crc32cUpdate(seed, out, base, at + targets.length * ENTRY_SIZE);
  crc = crc32cUpdate(crc, out, tail, tail + 4);
  crc = crc32cUpdate(crc, new Uint8Array(4));
  v.setUint32(tail + 4, crc, true);
}

/** The directory's blocks; `ino` and `parent` go in the root's "." and ".."; `seed` is the inode's checksum seed. */
export function encodeHashTree(tree: HashTree, ino: number, parent: number, blockSize: number, seed: number): Uint8Array {
  const out = new Uint8Array(tree.blocks * blockSize);
  const v = new DataView(out.buffer);
  const leaves = tree.leafStarts.length;
  encodeEntryBlocks(tree.entries, tree.leafStarts, 0, out, 1, blockSize, seed);

  v.setUint32(0, ino, true);
  v.setUint16(4, 12, true);
  v.setUint8(6, 1);
  v.setUint8(7, FT_DIR);
  out[8] = 0x2e;
  v.setUint32(12, parent, true);
  v.setUint16(16, blockSize - 12, true);
  v.setUint8(18, 2);
  v.setUint8(19, FT_DIR);
  out[20] = 0x2e;
  out[21] = 0x2e;
  v.setUint8(28, HASH_HALF_MD4);
  v.setUint8(29, ROOT_INFO_LENGTH);
  v.setUint8(30, tree.indirectLevels);

  const leafTarget = (leaf: number): { block: number; hash: number } => ({ block: 1 + leaf, hash: leafHash(tree, leaf) });
  if (tree.indirectLevels === 0) {
    writeIndex(out, 0, ROOT_COUNT_OFFSET, rootLimit(blockSize), Array.from({ length: leaves }, (_, i) => leafTarget(i)), seed);
    return out;
  }
  const perNode = nodeLimit(blockSize);
  const nodes = tree.blocks - 1 - leaves;
  const nodeTargets: { block: number; hash: number }[] = [];
  for (let n = 0; n < nodes; n++) {
    const block = 1 + leaves + n;
    const first = n * perNode;
    const span = Array.from({ length: Math.min(perNode, leaves - first) }, (_, i) => leafTarget(first + i));
    // A node's fake record: no inode, covering the whole block.
    v.setUint16(block * blockSize + 4, blockSize, true);
    writeIndex(out, block * blockSize, NODE_COUNT_OFFSET, perNode, span, seed);
    nodeTargets.push({ block, hash: leafHash(tree, first) });
  }
  writeIndex(out, 0, ROOT_COUNT_OFFSET, rootLimit(blockSize), nodeTargets, seed);
  return out;
}
