/**
 * Directory entry blocks (format-specs §8.5): ext4_dir_entry_2 records covering each
 * block, then the 12-byte metadata_csum tail. A small directory is these blocks alone;
 * a hashed one (htree.ts) uses them as its leaves.
 */
import { crc32cUpdate } from '../../core/checksum.js';

export const FT_REG = 1;
export const FT_DIR = 2;
export const FT_SYMLINK = 7;
const TAIL = 12;

export interface DirEntry {
  /** Byte string (latin1). */
  readonly name: string;
  readonly ino: number;
  readonly fileType: number;
}

export function recordLength(nameLength: number): number {
  return (8 + nameLength + 3) & ~3;
}

/** Bytes of records a block holds before its tail. */
export function usableBytes(blockSize: number): number {
  return blockSize - TAIL;
}

/**
 * Index of the first entry of each block, filling blocks in order and closing one when
 * fewer than `slack` bytes are left (as e2fsck packs them: the smallest record for a
 * compact directory, a fifth of the block for an index's leaves). At least one block.
 */
export function blockStarts(entries: readonly DirEntry[], blockSize: number, slack: number): number[] {
  const usable = usableBytes(blockSize);
  const starts = [0];
  let used = 0;
  for (let i = 0; i < entries.length; i++) {
    const len = recordLength(entries[i]!.name.length);
    if (used + len > usable) {
      starts.push(i);
      used = 0;
    }
    used += len;
    if (usable - used < slack && i + 1 < entries.length) {
      starts.push(i + 1);
      used = 0;
    }
  }
  return starts;
}

/**
 * Writes the entries into `out` from block `firstBlock` on, one block per start (from
 * blockStarts), then `emptyBlocks` more holding one empty record each, as lost+found's
 * preallocated blocks do. `seed` is the directory inode's checksum seed.
 */
export function encodeEntryBlocks(
  entries: readonly DirEntry[], starts: readonly number[], emptyBlocks: number,
  out: Uint8Array, firstBlock: number, blockSize: number, seed: number,
): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const usable = usableBytes(blockSize);
  for (let b = 0; b < starts.length + emptyBlocks; b++) {
    const base = (firstBlock + b) * blockSize;
    const from = b < starts.length ? starts[b]! : 0;
    const to = b < starts.length ? (starts[b + 1] ?? entries.length) : 0;
    let at = base;
    for (let i = from; i < to; i++) {
      const e = entries[i]!;
      const len = recordLength(e.name.length);
      v.setUint32(at, e.ino, true);
      v.setUint16(at + 4, i + 1 === to ? base + usable - at : len, true);
      v.setUint8(at + 6, e.name.length);
      v.setUint8(at + 7, e.fileType);
      for (let c = 0; c < e.name.length; c++) out[at + 8 + c] = e.name.charCodeAt(c);
      at += len;
    }
    if (from === to) {
      v.setUint32(base, 0, true);
      v.setUint16(base + 4, usable, true);
    }
    const tail = base + usable;
    v.setUint32(tail, 0, true);
    v.setUint16(tail + 4, TAIL, true);
    v.setUint8(tail + 6, 0);
    v.setUint8(tail + 7, 0xde);
    v.setUint32(tail + 8, crc32cUpdate(seed, out, base, tail), true);
  }
}
