/**
 * The fragment table: one 16-byte entry per fragment block (position u64, stored size u32
 * with bit 24 set when stored raw, an unused u32). Files refer to a fragment by index and
 * an offset inside its uncompressed bytes.
 */
import type { BlockCodec } from './codec.js';
import { encodeLookupTable, type LookupTable } from './lookup-table.js';

export const FRAGMENT_ENTRY_SIZE = 16;
/** Fragment index of a file without a fragment. */
export const NO_FRAGMENT = 0xffffffff;

export interface FragmentEntry {
  readonly start: number;
  /** Stored size with the raw bit, as data blocks carry it. */
  readonly sizeWord: number;
}

export function encodeFragmentTable(codec: BlockCodec, fragments: readonly FragmentEntry[], at: number): LookupTable {
  const entries = new Uint8Array(fragments.length * FRAGMENT_ENTRY_SIZE);
  const view = new DataView(entries.buffer);
  fragments.forEach((fragment, i) => {
    view.setBigUint64(i * FRAGMENT_ENTRY_SIZE, BigInt(fragment.start), true);
    view.setUint32(i * FRAGMENT_ENTRY_SIZE + 8, fragment.sizeWord, true);
  });
  return encodeLookupTable(codec, entries, at);
}
