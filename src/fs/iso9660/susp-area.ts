/**
 * Places a record's SUSP entries: as many as fit in the directory record (at most 255 bytes
 * in all), the rest in continuation areas reached through CE entries. A continuation area
 * never crosses a sector; longer remainders chain several areas.
 */
import { SECTOR_SIZE } from './both-endian.js';
import { RECORD_MAX } from './directory-record.js';
import { ceEntry, CE_LENGTH } from './rock-ridge.js';

export interface SplitEntries {
  readonly inline: readonly Uint8Array[];
  /** Each area's entries, without the CE that links it to the next. */
  readonly areas: readonly (readonly Uint8Array[])[];
}

const sum = (list: readonly Uint8Array[]): number => list.reduce((n, e) => n + e.length, 0);

export function splitEntries(baseLength: number, entries: readonly Uint8Array[]): SplitEntries {
  const room = RECORD_MAX - 1 - baseLength; // keep the record length even
  if (sum(entries) <= room) return { inline: entries, areas: [] };
  const inline: Uint8Array[] = [];
  let i = 0;
  let used = 0;
  while (i < entries.length && used + entries[i]!.length + CE_LENGTH <= room) used += entries[i++]!.length;
  inline.push(...entries.slice(0, i));
  const areas: Uint8Array[][] = [];
  while (i < entries.length) {
    const area: Uint8Array[] = [];
    let size = 0;
    const rest = sum(entries.slice(i));
    const limit = rest <= SECTOR_SIZE ? SECTOR_SIZE : SECTOR_SIZE - CE_LENGTH;
    while (i < entries.length && size + entries[i]!.length <= limit) { size += entries[i]!.length; area.push(entries[i++]!); }
    areas.push(area);
  }
  return { inline, areas };
}

/** Length in bytes of each area as written (with its CE when another follows). */
export function areaLengths(split: SplitEntries): number[] {
  return split.areas.map((area, i) => sum(area) + (i < split.areas.length - 1 ? CE_LENGTH : 0));
}

/** Continuation areas packed one after another into sectors, none crossing a sector. */
export class ContinuationHeap {
  private block = 0;
  private offset = 0;
  private blocks = 0;

  /** Reserves an area; positions are relative to the heap's first sector. */
  reserve(length: number): { block: number; offset: number } {
    if (this.blocks === 0 || this.offset + length > SECTOR_SIZE) {
      this.block = this.blocks++;
      this.offset = 0;
    }
    const at = { block: this.block, offset: this.offset };
    this.offset += length;
    return at;
  }

  get sectors(): number {
    return this.blocks;
  }
}

export interface PlacedArea {
  readonly block: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** The System Use bytes of the record and its areas' bytes, once the areas have sectors. */
export function encodeSplit(split: SplitEntries, places: readonly { block: number; offset: number }[]): { systemUse: Uint8Array; areas: PlacedArea[] } {
  const lengths = areaLengths(split);
  const join = (list: readonly Uint8Array[], next: number | undefined): Uint8Array => {
    const tail = next === undefined ? [] : [ceEntry(places[next]!.block, places[next]!.offset, lengths[next]!)];
    const all = [...list, ...tail];
    const out = new Uint8Array(sum(all));
    let at = 0;
    for (const e of all) { out.set(e, at); at += e.length; }
    return out;
  };
  const systemUse = join(split.inline, split.areas.length > 0 ? 0 : undefined);
  const areas = split.areas.map((area, i) => ({
    block: places[i]!.block,
    offset: places[i]!.offset,
    bytes: join(area, i + 1 < split.areas.length ? i + 1 : undefined),
  }));
  return { systemUse, areas };
}
