/**
 * The id table: every uid and gid used, once each (u32), in order of first use. Inodes
 * hold 16-bit indices into it, so at most 65536 distinct ids fit.
 */
import { ImageError } from '../../core/errors.js';
import type { BlockCodec } from './codec.js';
import { encodeLookupTable, type LookupTable } from './lookup-table.js';

const MAX_IDS = 65536;

export class IdTable {
  private readonly indices = new Map<number, number>();

  /** The index of `id`, adding it on first use. */
  indexOf(id: number): number {
    let index = this.indices.get(id);
    if (index === undefined) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
        throw new ImageError('squashfs.id', `Cannot store owner id ${id}: expected a whole number from 0 to 4294967295`);
      }
      index = this.indices.size;
      if (index >= MAX_IDS) throw new ImageError('squashfs.too-many-ids', `Cannot store owner id ${id}: squashfs holds at most ${MAX_IDS} distinct uids and gids`);
      this.indices.set(id, index);
    }
    return index;
  }

  get count(): number {
    return this.indices.size;
  }

  encode(codec: BlockCodec, at: number): LookupTable {
    const entries = new Uint8Array(4 * this.indices.size);
    const view = new DataView(entries.buffer);
    for (const [id, index] of this.indices) view.setUint32(4 * index, id, true);
    return encodeLookupTable(codec, entries, at);
  }
}
