/**
 * The squashfs 4.0 superblock: 96 bytes at the start of the filesystem, little-endian,
 * pointing at every table. Positions are bytes from the superblock's first byte.
 */
import { defineStruct } from '../../core/struct.js';

export const SQUASHFS_MAGIC = 0x73717368; // "hsqs"
/** A table position meaning "this table is absent" (xattrs, exports). */
export const NO_TABLE = 0xffff_ffff_ffff_ffffn;

export const SUPERBLOCK = defineStruct('squashfs superblock', 96, {
  magic: [0, 'u32le'],
  inodeCount: [4, 'u32le'],
  modificationTime: [8, 'u32le'],
  blockSize: [12, 'u32le'],
  fragmentCount: [16, 'u32le'],
  compressionId: [20, 'u16le'],
  blockLog: [22, 'u16le'],
  flags: [24, 'u16le'],
  idCount: [26, 'u16le'],
  versionMajor: [28, 'u16le'],
  versionMinor: [30, 'u16le'],
  rootInodeRef: [32, 'u64le'],
  bytesUsed: [40, 'u64le'],
  idTableStart: [48, 'u64le'],
  xattrIdTableStart: [56, 'u64le'],
  inodeTableStart: [64, 'u64le'],
  directoryTableStart: [72, 'u64le'],
  fragmentTableStart: [80, 'u64le'],
  exportTableStart: [88, 'u64le'],
});

/** Superblock flags (fs/squashfs/squashfs_fs.h). */
export const FLAG = {
  uncompressedInodes: 0x0001,
  uncompressedData: 0x0002,
  uncompressedFragments: 0x0008,
  noFragments: 0x0010,
  alwaysFragments: 0x0020,
  duplicates: 0x0040,
  exportable: 0x0080,
  uncompressedXattrs: 0x0100,
  noXattrs: 0x0200,
  compressorOptions: 0x0400,
  uncompressedIds: 0x0800,
} as const;

/** Compression ids in the superblock. */
export const COMPRESSION_ID = { gzip: 1, lzma: 2, lzo: 3, xz: 4, lz4: 5, zstd: 6 } as const;

export interface SuperblockFields {
  readonly inodeCount: number;
  readonly mtime: number;
  readonly blockSize: number;
  readonly fragmentCount: number;
  readonly compressionId: number;
  readonly flags: number;
  readonly idCount: number;
  readonly rootInodeRef: number;
  readonly bytesUsed: number;
  readonly idTableStart: number;
  readonly inodeTableStart: number;
  readonly directoryTableStart: number;
  readonly fragmentTableStart: number;
  /** Undefined when the filesystem is not exportable. */
  readonly exportTableStart: number | undefined;
}

export function encodeSuperblock(fields: SuperblockFields): Uint8Array {
  const bytes = SUPERBLOCK.encode({
    magic: SQUASHFS_MAGIC,
    inodeCount: fields.inodeCount,
    modificationTime: fields.mtime,
    blockSize: fields.blockSize,
    fragmentCount: fields.fragmentCount,
    compressionId: fields.compressionId,
    blockLog: Math.log2(fields.blockSize),
    flags: fields.flags,
    idCount: fields.idCount,
    versionMajor: 4,
    versionMinor: 0,
    rootInodeRef: fields.rootInodeRef,
    bytesUsed: fields.bytesUsed,
    idTableStart: fields.idTableStart,
    inodeTableStart: fields.inodeTableStart,
    directoryTableStart: fields.directoryTableStart,
    fragmentTableStart: fields.fragmentTableStart,
  });
  const view = new DataView(bytes.buffer);
  view.setBigUint64(SUPERBLOCK.offsetOf('xattrIdTableStart'), NO_TABLE, true);
  if (fields.exportTableStart === undefined) view.setBigUint64(SUPERBLOCK.offsetOf('exportTableStart'), NO_TABLE, true);
  else view.setBigUint64(SUPERBLOCK.offsetOf('exportTableStart'), BigInt(fields.exportTableStart), true);
  return bytes;
}
