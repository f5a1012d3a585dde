/**
 * Linear directory blocks (format-specs §8.5): ext4_dir_entry_2 records covering each
 * block, then the 12-byte metadata_csum tail. Large directories stay linear, as
 * `mke2fs -d` writes them; the kernel indexes them itself when they change.
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

function recordLength(nameLength: number): number {
  return (8 + nameLength + 3) & ~3;
}

/** Number of blocks the entries need (including "." and "..", which the caller passes). */
export function directoryBlocks(entries: readonly DirEntry[], blockSize: number): number {
  const usable = blockSize - TAIL;
  let blocks = 1;
  let used = 0;
  for (const e of entries) {
    const len = recordLength(e.name.length);
    if (used + len > usable) {
      blocks++;
      used = 0;
    }
    used += len;
  }
  return blocks;
}

/**
 * Encodes the entries into `blockCount` blocks (at least directoryBlocks of them);
 * extra blocks hold one empty record, as lost+found's preallocated blocks do.
 */
export function encodeDirectory(entries: readonly DirEntry[], blockCount: number, blockSize: number, seed: number): Uint8Array {
  const out = new Uint8Array(blockCount * blockSize);
  const v = new DataView(out.buffer);
  const usable = blockSize - TAIL;
  let block = 0;
  let used = 0;
  let last = -1; // offset of the previous record in the current block
  const closeBlock = (): void => {
    const base = block * blockSize;
    if (last < 0) {
      v.setUint32(base, 0, true);
      v.setUint16(base + 4, usable, true);
    } else {
      v.setUint16(last + 4, base + usable - last, true);
    }
    const tail = base + usable;
    v.setUint32(tail, 0, true);
    v.setUint16(tail + 4, TAIL, true);
    v.setUint8(tail + 6, 0);
    v.setUint8(tail + 7, 0xde);
    v.setUint32(tail + 8, crc32cUpdate(seed, out, base, tail), true);
  };
  for (const e of entries) {
    const len = recordLength(e.name.length);
    if (used + len > usable) {
      closeBlock();
      block++;
      used = 0;
      last = -1;
    }
    const at = block * blockSize + used;
    v.setUint32(at, e.ino, true);
    v.setUint16(at + 4, len, true);
    v.setUint8(at + 6, e.name.length);
    v.setUint8(at + 7, e.fileType);
    for (let i = 0; i < e.name.length; i++) out[at + 8 + i] = e.name.charCodeAt(i);
    last = at;
    used += len;
  }
  closeBlock();
  for (block++; block < blockCount; block++) {
    last = -1;
    closeBlock();
  }
  return out;
}
