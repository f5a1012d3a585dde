/** ext4 on-disk inode, 256 bytes with 32 bytes of extra fields (format-specs §8.5). */
import { crc32cUpdate } from '../../core/checksum.js';
import { inodeSeed } from './checksums.js';
import { encodeExtentRoot, type ExtentRoot } from './extent.js';

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
  /** The 60-byte i_block area: a fast symlink's target, or where the extents are (its tree's root is encoded there). */
  readonly block: Uint8Array | ExtentRoot;
}

/** Encodes an inode at `at` of the table `into` (`v` is a view of all of `into`) and stores its metadata_csum checksum. */
export function encodeInode(into: Uint8Array, v: DataView, at: number, ino: number, f: InodeFields, blockSize: number, csumSeed: number): void {
  // Times: the signed 32-bit field and the two epoch bits of *_extra.
  const lo = f.time >>> 0;
  const extra = ((f.time - (lo | 0)) / 2 ** 32) & 3;
  v.setUint16(at, f.mode, true);
  v.setUint16(at + 2, f.uid & 0xffff, true);
  v.setUint32(at + 4, f.size % 2 ** 32, true);
  v.setUint32(at + 8, lo, true); // atime
  v.setUint32(at + 12, lo, true); // ctime
  v.setUint32(at + 16, lo, true); // mtime
  v.setUint16(at + 24, f.gid & 0xffff, true);
  v.setUint16(at + 26, f.links, true);
  v.setUint32(at + 28, f.sectors % 2 ** 32, true);
  v.setUint32(at + 32, f.flags, true);
  if (f.block instanceof Uint8Array) into.set(f.block, at + 40);
  else encodeExtentRoot(v, at + 40, f.block, blockSize);
  v.setUint32(at + 108, Math.floor(f.size / 2 ** 32), true);
  v.setUint16(at + 116, Math.floor(f.sectors / 2 ** 32), true);
  v.setUint16(at + 120, f.uid >>> 16, true);
  v.setUint16(at + 122, f.gid >>> 16, true);
  v.setUint16(at + 128, EXTRA_ISIZE, true);
  v.setUint32(at + 132, extra, true); // ctime_extra
  v.setUint32(at + 136, extra, true); // mtime_extra
  v.setUint32(at + 140, extra, true); // atime_extra
  v.setUint32(at + 144, lo, true); // crtime
  v.setUint32(at + 148, extra, true); // crtime_extra
  const crc = crc32cUpdate(inodeSeed(csumSeed, ino, 0), into, at, at + INODE_SIZE);
  v.setUint16(at + 124, crc & 0xffff, true);
  v.setUint16(at + 130, crc >>> 16, true);
}
