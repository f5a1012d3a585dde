/**
 * Which layout a directory gets, as `e2fsck -D` chooses it: entry blocks alone
 * (directory.ts) while its entries other than "." and ".." fill less than a block,
 * a hashed index (htree.ts) from there on, so the kernel looks names up by hash.
 */
import { blockStarts, encodeEntryBlocks, recordLength, type DirEntry } from './directory.js';
import { encodeHashTree, planHashTree } from './htree.js';

/** The smallest record: a compact directory's blocks are filled up to it. */
const MIN_RECORD = recordLength(1);

/** `entries` start with "." and "..". */
export function isIndexed(entries: readonly DirEntry[], blockSize: number): boolean {
  let bytes = 0;
  for (let i = 2; i < entries.length; i++) bytes += recordLength(entries[i]!.name.length);
  return bytes >= blockSize - 24;
}

/** Blocks the directory needs (at least `minimumBlocks` when it is not indexed). */
export function directoryBlocks(entries: readonly DirEntry[], blockSize: number, hashSeed: Uint32Array, path: string, minimumBlocks = 1): number {
  if (isIndexed(entries, blockSize)) return planHashTree(entries.slice(2), blockSize, hashSeed, path).blocks;
  return Math.max(minimumBlocks, blockStarts(entries, blockSize, MIN_RECORD).length);
}

/**
 * The directory's `blockCount` blocks (from directoryBlocks); extra blocks of a compact
 * directory hold one empty record, as lost+found's preallocated blocks do. `csumSeed`
 * is the directory inode's checksum seed.
 */
export function encodeDirectory(entries: readonly DirEntry[], blockCount: number, blockSize: number, hashSeed: Uint32Array, csumSeed: number, path: string): Uint8Array {
  if (isIndexed(entries, blockSize)) {
    return encodeHashTree(planHashTree(entries.slice(2), blockSize, hashSeed, path), entries[0]!.ino, entries[1]!.ino, blockSize, csumSeed);
  }
  const starts = blockStarts(entries, blockSize, MIN_RECORD);
  const out = new Uint8Array(blockCount * blockSize);
  encodeEntryBlocks(entries, starts, blockCount - starts.length, out, 0, blockSize, csumSeed);
  return out;
}
