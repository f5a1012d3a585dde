/**
 * metadata_csum: CRC-32C without final inversion, chained from a seed derived from the
 * UUID (format-specs §8.6, checked against mke2fs output by the tests).
 */
import { crc32cUpdate } from '../../core/checksum.js';

// One scratch word: a checksum is chained over it at once, and an inode's seed is
// taken several times per inode (new memory each time cost more than the CRC).
const word = new Uint8Array(4);
const wordView = new DataView(word.buffer);

/** `value` as 4 little-endian bytes in the scratch word, valid until the next call. */
function u32le(value: number): Uint8Array {
  wordView.setUint32(0, value >>> 0, true);
  return word;
}

export function checksumSeed(uuid: Uint8Array): number {
  return crc32cUpdate(0xffffffff, uuid);
}

export function superblockChecksum(superblock: Uint8Array): number {
  return crc32cUpdate(0xffffffff, superblock, 0, 1020);
}

export function groupDescriptorChecksum(seed: number, group: number, descriptor: Uint8Array): number {
  return crc32cUpdate(crc32cUpdate(seed, u32le(group)), descriptor) & 0xffff;
}

export function bitmapChecksum(seed: number, bitmap: Uint8Array, bytes: number): number {
  return crc32cUpdate(seed, bitmap, 0, bytes);
}

/** Seed for per-inode metadata (the inode itself, its directory and extent blocks). */
export function inodeSeed(seed: number, ino: number, generation: number): number {
  return crc32cUpdate(crc32cUpdate(seed, u32le(ino)), u32le(generation));
}
