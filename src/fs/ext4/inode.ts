/** ext4 on-disk inode, 256 bytes with 32 bytes of extra fields (format-specs §8.5). */
import { crc32cUpdate } from '../../core/checksum.js';
import { inodeSeed } from './checksums.js';

export const INODE_SIZE = 256;
export const EXTRA_ISIZE = 32;
export const EXTENTS_FL = 0x80000;
/** A hashed directory (htree.ts). */
export const INDEX_FL = 0x1000;

export interface InodeFields {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since 1970 (up to 2446, via the extra epoch bits). */
  readonly time: number;
  readonly links: number;
  /** Blocks used, in 512-byte units. */
  readonly sectors: number;
  readonly flags: number;
  /** The 60-byte i_block area: an extent tree root or a fast symlink target. */
  readonly block: Uint8Array;
}

/** Splits seconds into the signed 32-bit field and the two epoch bits of *_extra. */
function timeParts(seconds: number): { lo: number; extra: number } {
  const lo = seconds >>> 0;
  const signed = lo | 0;
  const epoch = (seconds - signed) / 2 ** 32;
  return { lo, extra: epoch & 3 };
}

/** Encodes an inode into `into` at `at` and stores its metadata_csum checksum. */
export function encodeInode(into: Uint8Array, at: number, ino: number, f: InodeFields, csumSeed: number): void {
  const v = new DataView(into.buffer, into.byteOffset + at, INODE_SIZE);
  const t = timeParts(f.time);
  v.setUint16(0, f.mode, true);
  v.setUint16(2, f.uid & 0xffff, true);
  v.setUint32(4, f.size % 2 ** 32, true);
  v.setUint32(8, t.lo, true); // atime
  v.setUint32(12, t.lo, true); // ctime
  v.setUint32(16, t.lo, true); // mtime
  v.setUint16(24, f.gid & 0xffff, true);
  v.setUint16(26, f.links, true);
  v.setUint32(28, f.sectors % 2 ** 32, true);
  v.setUint32(32, f.flags, true);
  into.set(f.block, at + 40);
  v.setUint32(108, Math.floor(f.size / 2 ** 32), true);
  v.setUint16(116, Math.floor(f.sectors / 2 ** 32), true);
  v.setUint16(120, f.uid >>> 16, true);
  v.setUint16(122, f.gid >>> 16, true);
  v.setUint16(128, EXTRA_ISIZE, true);
  v.setUint32(132, t.extra, true); // ctime_extra
  v.setUint32(136, t.extra, true); // mtime_extra
  v.setUint32(140, t.extra, true); // atime_extra
  v.setUint32(144, t.lo, true); // crtime
  v.setUint32(148, t.extra, true); // crtime_extra
  const crc = crc32cUpdate(inodeSeed(csumSeed, ino, 0), into, at, at + INODE_SIZE);
  v.setUint16(124, crc & 0xffff, true);
  v.setUint16(130, crc >>> 16, true);
}
