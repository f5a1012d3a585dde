/**
 * The file allocation table (fatgen103 §4; format-specs §9.2). Every file and directory
 * we write is one contiguous run of clusters, so the table is described by its runs and
 * encoded on demand, a byte range at a time: memory stays proportional to the number of
 * files, not to the volume or file sizes.
 *
 * Entry 0 holds the media byte with all other bits set, entry 1 the end-of-chain value
 * (also meaning "clean, no I/O errors"); a run's entries point to the next cluster and
 * its last entry holds end-of-chain. FAT12 packs two entries into three bytes.
 */
import { assert } from '../../core/errors.js';
import type { FatType } from './geometry.js';

export interface ClusterRun {
  readonly first: number;
  readonly count: number;
}

const END_OF_CHAIN: Record<FatType, number> = { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff };

export class FatTable {
  readonly fatType: FatType;
  /** Bytes at the start of each FAT copy that hold non-zero entries; the rest is zeros. */
  readonly usedBytes: number;
  private readonly runs: readonly ClusterRun[];
  private readonly entry0: number;

  /** `runs` ascending and disjoint, clusters from 2. */
  constructor(fatType: FatType, media: number, runs: readonly ClusterRun[]) {
    let end = 2;
    for (const run of runs) {
      assert(run.first >= end && run.count > 0, 'fat.runs', `cluster run ${run.first}+${run.count} overlaps or is out of order`);
      end = run.first + run.count;
    }
    this.fatType = fatType;
    this.runs = runs;
    this.entry0 = (END_OF_CHAIN[fatType] & ~0xff) | media;
    this.usedBytes = Math.ceil((end * fatType) / 8);
  }

  /** Calls `put(cluster, value)` for clusters first .. first + count - 1, in order. */
  private walk(first: number, count: number, put: (cluster: number, value: number) => void): void {
    const runs = this.runs;
    const eoc = END_OF_CHAIN[this.fatType];
    // First run that ends after `first`.
    let lo = 0;
    let hi = runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = runs[mid]!;
      if (r.first + r.count <= first) lo = mid + 1;
      else hi = mid;
    }
    let r = lo;
    for (let c = first; c < first + count; c++) {
      while (r < runs.length && runs[r]!.first + runs[r]!.count <= c) r++;
      let value = 0;
      if (c === 0) value = this.entry0;
      else if (c === 1) value = eoc;
      else if (r < runs.length && c >= runs[r]!.first) value = c === runs[r]!.first + runs[r]!.count - 1 ? eoc : c + 1;
      put(c, value);
    }
  }

  /** The entry of one cluster (for tests and checks). */
  entry(cluster: number): number {
    let out = 0;
    this.walk(cluster, 1, (_, v) => { out = v; });
    return out;
  }

  /**
   * Bytes [from, to) of one FAT copy. For FAT16/32 both ends must fall on entry
   * boundaries; FAT12 tables are at most 6 KiB and are encoded from byte 0.
   */
  encode(from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from);
    if (this.fatType === 12) {
      assert(from === 0, 'fat.range', 'FAT12 tables are encoded whole');
      const entries = Math.ceil((to * 2) / 3);
      this.walk(0, entries, (c, v) => {
        const at = (c * 3) >> 1;
        if (c % 2 === 0) {
          if (at < to) out[at] = v & 0xff;
          if (at + 1 < to) out[at + 1] = (out[at + 1]! & 0xf0) | (v >> 8);
        } else {
          if (at < to) out[at] = (out[at]! & 0x0f) | ((v & 0x0f) << 4);
          if (at + 1 < to) out[at + 1] = v >> 4;
        }
      });
      return out;
    }
    const width = this.fatType / 8;
    assert(from % width === 0 && to % width === 0, 'fat.range', `FAT byte range ${from}..${to} splits an entry`);
    const view = new DataView(out.buffer);
    if (width === 2) this.walk(from / 2, (to - from) / 2, (c, v) => view.setUint16(c * 2 - from, v, true));
    else this.walk(from / 4, (to - from) / 4, (c, v) => view.setUint32(c * 4 - from, v, true));
    return out;
  }
}
