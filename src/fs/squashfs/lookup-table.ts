/**
 * The layout shared by the fragment, export and id tables: the entries in metadata
 * blocks, followed by an uncompressed array of u64 positions, one per block. The
 * superblock points at that array; the kernel checks that it ends exactly where the next
 * table begins, so these tables are written back to back.
 */
import type { BlockCodec } from './codec.js';
import { MetadataWriter } from './metadata.js';

export interface LookupTable {
  /** Metadata blocks, then the index. */
  readonly bytes: Uint8Array;
  /** Position of the index (what the superblock holds). */
  readonly indexStart: number;
}

/** Encodes `entries` as a table placed at filesystem position `at`. */
export function encodeLookupTable(codec: BlockCodec, entries: Uint8Array, at: number): LookupTable {
  const writer = new MetadataWriter(codec);
  writer.write(entries);
  const blocks = writer.finish();
  const starts = writer.blockStarts();
  const bytes = new Uint8Array(blocks.length + 8 * starts.length);
  bytes.set(blocks);
  const view = new DataView(bytes.buffer);
  starts.forEach((start, i) => view.setBigUint64(blocks.length + 8 * i, BigInt(at + start), true));
  return { bytes, indexStart: at + blocks.length };
}
