/**
 * Inodes as the inode table stores them: a 16-byte common header (type, permissions,
 * uid and gid indices, mtime, inode number), then the type's fields. Basic types are
 * used where their narrower fields suffice, extended ones otherwise (as mksquashfs does).
 */
import { NO_FRAGMENT } from './fragment-table.js';

export const INODE_TYPE = {
  dir: 1, file: 2, symlink: 3, extendedDir: 8, extendedFile: 9,
} as const;
/** The type directory entries record: always the basic one. */
export const ENTRY_TYPE = { dir: 1, file: 2, symlink: 3 } as const;

const NO_XATTR = 0xffffffff;
const U32_MAX = 0xffffffff;

export interface InodeHeader {
  readonly permissions: number;
  readonly uidIndex: number;
  readonly gidIndex: number;
  readonly mtime: number;
  readonly number: number;
}

class InodeBytes {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  at = 16;
  constructor(length: number, type: number, header: InodeHeader) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
    this.view.setUint16(0, type, true);
    this.view.setUint16(2, header.permissions, true);
    this.view.setUint16(4, header.uidIndex, true);
    this.view.setUint16(6, header.gidIndex, true);
    this.view.setUint32(8, header.mtime, true);
    this.view.setUint32(12, header.number, true);
  }
  u16(value: number): this { this.view.setUint16(this.at, value, true); this.at += 2; return this; }
  u32(value: number): this { this.view.setUint32(this.at, value, true); this.at += 4; return this; }
  u64(value: number): this { this.view.setBigUint64(this.at, BigInt(value), true); this.at += 8; return this; }
  latin1(text: string): this {
    for (let i = 0; i < text.length; i++) this.bytes[this.at + i] = text.charCodeAt(i);
    this.at += text.length;
    return this;
  }
}

export interface FileInode {
  /** Position of the first data block. */
  readonly blocksStart: number;
  readonly size: number;
  /** Stored size of each full block (and of the last block when there is no fragment); 0 is sparse. */
  readonly blockSizes: readonly number[];
  readonly fragmentIndex: number;
  readonly fragmentOffset: number;
  readonly linkCount: number;
  /** Bytes the sparse blocks would have taken. */
  readonly sparseBytes: number;
}

export function encodeFileInode(header: InodeHeader, file: FileInode): Uint8Array {
  const basic = file.linkCount === 1 && file.size <= U32_MAX && file.blocksStart <= U32_MAX && file.sparseBytes === 0;
  if (basic) {
    const inode = new InodeBytes(32 + 4 * file.blockSizes.length, INODE_TYPE.file, header)
      .u32(file.blocksStart).u32(file.fragmentIndex).u32(file.fragmentOffset).u32(file.size);
    for (const size of file.blockSizes) inode.u32(size);
    return inode.bytes;
  }
  const inode = new InodeBytes(56 + 4 * file.blockSizes.length, INODE_TYPE.extendedFile, header)
    .u64(file.blocksStart).u64(file.size).u64(file.sparseBytes).u32(file.linkCount)
    .u32(file.fragmentIndex).u32(file.fragmentOffset).u32(NO_XATTR);
  for (const size of file.blockSizes) inode.u32(size);
  return inode.bytes;
}

export function encodeSymlinkInode(header: InodeHeader, target: string): Uint8Array {
  return new InodeBytes(24 + target.length, INODE_TYPE.symlink, header).u32(1).u32(target.length).latin1(target).bytes;
}

export interface DirectoryIndexEntry {
  /** Offset of a directory header from the start of the directory's listing. */
  readonly listingOffset: number;
  /** Start of the metadata block holding that header, from the directory table's start. */
  readonly block: number;
  /** Name of the first entry after that header. */
  readonly name: string;
}

export interface DirectoryInode {
  /** Where the listing starts in the directory table. */
  readonly block: number;
  readonly offset: number;
  /** Listing bytes + 3 (the "." and ".." readers add). */
  readonly fileSize: number;
  /** 2 + number of subdirectories. */
  readonly linkCount: number;
  readonly parentNumber: number;
  readonly index: readonly DirectoryIndexEntry[];
}

/** Basic while the listing fits a u16 size and needs no index, else extended with the index. */
export function encodeDirectoryInode(header: InodeHeader, directory: DirectoryInode): Uint8Array {
  if (directory.index.length === 0 && directory.fileSize <= 0xffff) {
    return new InodeBytes(32, INODE_TYPE.dir, header)
      .u32(directory.block).u32(directory.linkCount).u16(directory.fileSize).u16(directory.offset).u32(directory.parentNumber).bytes;
  }
  const indexBytes = directory.index.reduce((sum, entry) => sum + 12 + entry.name.length, 0);
  const inode = new InodeBytes(40 + indexBytes, INODE_TYPE.extendedDir, header)
    .u32(directory.linkCount).u32(directory.fileSize).u32(directory.block).u32(directory.parentNumber)
    .u16(directory.index.length).u16(directory.offset).u32(NO_XATTR);
  for (const entry of directory.index) inode.u32(entry.listingOffset).u32(entry.block).u32(entry.name.length - 1).latin1(entry.name);
  return inode.bytes;
}

export { NO_FRAGMENT };
