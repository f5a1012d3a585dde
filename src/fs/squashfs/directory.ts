/**
 * Directory listings in the directory table: runs of entries behind 12-byte headers
 * (entry count - 1, inode block, base inode number). Every entry of a run has its inode
 * in the header's block and an inode number within a signed 16-bit step of the base; a
 * run holds at most 256 entries. A new run also starts where the listing crosses into a
 * new metadata block, and those runs are what the directory index points at, so a lookup
 * can skip to the right block (the kernel's squashfs_lookup does).
 */
import { ImageError } from '../../core/errors.js';
import type { DirectoryIndexEntry } from './inode.js';
import { METADATA_SIZE, type MetadataPosition, type MetadataWriter } from './metadata.js';

export const MAX_NAME = 255;
const MAX_RUN = 256;
const HEADER_SIZE = 12;
const ENTRY_SIZE = 8;

export interface DirectoryEntry {
  readonly name: string;
  /** Basic inode type (ENTRY_TYPE). */
  readonly type: number;
  readonly inode: MetadataPosition;
  readonly number: number;
}

export interface WrittenListing {
  readonly block: number;
  readonly offset: number;
  readonly fileSize: number;
  readonly index: DirectoryIndexEntry[];
}

/** Appends the listing of `entries` (sorted by name) to the directory table. */
export function writeListing(table: MetadataWriter, entries: readonly DirectoryEntry[]): WrittenListing {
  const start = table.position();
  const listingStart = table.length;
  const index: DirectoryIndexEntry[] = [];
  let indexedBlock = Math.floor(listingStart / METADATA_SIZE);
  let runStart = 0;
  while (runStart < entries.length) {
    const first = entries[runStart]!;
    const headerAt = table.length;
    const headerBlock = Math.floor(headerAt / METADATA_SIZE);
    if (headerBlock !== indexedBlock) {
      index.push({ listingOffset: headerAt - listingStart, block: table.position().block, name: first.name });
      indexedBlock = headerBlock;
    }
    // The run: same inode block, numbers within reach, at most 256, within this metadata block.
    let runEnd = runStart + 1;
    let bytes = HEADER_SIZE + ENTRY_SIZE + first.name.length;
    while (runEnd < entries.length && runEnd - runStart < MAX_RUN) {
      const next = entries[runEnd]!;
      const step = next.number - first.number;
      if (next.inode.block !== first.inode.block || step < -32768 || step > 32767) break;
      if (Math.floor((headerAt + bytes) / METADATA_SIZE) !== headerBlock) break;
      bytes += ENTRY_SIZE + next.name.length;
      runEnd++;
    }
    const run = new Uint8Array(bytes);
    const view = new DataView(run.buffer);
    view.setUint32(0, runEnd - runStart - 1, true);
    view.setUint32(4, first.inode.block, true);
    view.setUint32(8, first.number, true);
    let at = HEADER_SIZE;
    for (let i = runStart; i < runEnd; i++) {
      const entry = entries[i]!;
      view.setUint16(at, entry.inode.offset, true);
      view.setInt16(at + 2, entry.number - first.number, true);
      view.setUint16(at + 4, entry.type, true);
      view.setUint16(at + 6, entry.name.length - 1, true);
      for (let c = 0; c < entry.name.length; c++) run[at + ENTRY_SIZE + c] = entry.name.charCodeAt(c);
      at += ENTRY_SIZE + entry.name.length;
    }
    table.write(run);
    runStart = runEnd;
  }
  return { block: start.block, offset: start.offset, fileSize: table.length - listingStart + 3, index };
}

/** Refuses names squashfs cannot hold. */
export function checkName(name: string, path: string): void {
  if (name.length > MAX_NAME) {
    throw new ImageError('squashfs.name-too-long', `Cannot store "${path}": its name is ${name.length} bytes, at most ${MAX_NAME} fit in squashfs`, {
      hint: 'shorten the name',
    });
  }
  if (name.length === 0 || name.includes('/') || name === '.' || name === '..') {
    throw new ImageError('squashfs.bad-name', `Cannot store "${path}": "${name}" is not a valid file name`);
  }
}
