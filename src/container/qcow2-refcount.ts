/**
 * qcow2 refcounts (format-specs §1.4): a refcount table of u64 offsets of refcount blocks,
 * each block an array of (1 << refcount_order)-bit counts, one per host cluster. This
 * module counts references while a writer lays clusters out, sizes the self-describing
 * refcount structures, and encodes them.
 */
import { ImageError } from '../core/errors.js';

const MAX_REFCOUNT = 0xffff; // refcount_order 4

/** Reference counts per host cluster, growing as the file grows. */
export class RefcountCounter {
  readonly clusterBits: number;
  private counts = new Uint16Array(1024);
  private highest = -1;

  constructor(clusterBits: number) {
    this.clusterBits = clusterBits;
  }

  /** Number of host clusters up to and including the highest one referenced. */
  get clusterCount(): number {
    return this.highest + 1;
  }

  get(cluster: number): number {
    return cluster < this.counts.length ? this.counts[cluster]! : 0;
  }

  /** Adds one reference to each of `count` clusters starting at `first`. */
  addClusters(first: number, count = 1): void {
    const end = first + count;
    if (end > this.counts.length) {
      let length = this.counts.length;
      while (length < end) length *= 2;
      const grown = new Uint16Array(length);
      grown.set(this.counts);
      this.counts = grown;
    }
    for (let c = first; c < end; c++) {
      const value = this.counts[c]! + 1;
      if (value > MAX_REFCOUNT) {
        throw new ImageError('qcow2.refcount-overflow', `Internal error: host cluster ${c} would have more than ${MAX_REFCOUNT} references`);
      }
      this.counts[c] = value;
    }
    if (end - 1 > this.highest) this.highest = end - 1;
  }

  /** Adds one reference to every cluster the byte range [start, end) touches. */
  addBytes(start: number, end: number): void {
    const first = Math.floor(start / 2 ** this.clusterBits);
    const last = Math.floor((end - 1) / 2 ** this.clusterBits);
    this.addClusters(first, last - first + 1);
  }
}

export interface RefcountLayout {
  /** Clusters of the refcount table. */
  readonly tableClusters: number;
  /** Refcount blocks, numbered from host cluster 0 upwards. */
  readonly blocks: number;
}

/**
 * Sizes the refcount table and blocks so that they describe `usedClusters` clusters plus
 * themselves, when they are placed after those clusters.
 */
export function refcountLayout(usedClusters: number, clusterBits: number, refcountOrder: number): RefcountLayout {
  const entriesPerBlock = (2 ** clusterBits * 8) / 2 ** refcountOrder;
  const entriesPerTableCluster = 2 ** clusterBits / 8;
  let tableClusters = 1;
  let blocks = 1;
  for (;;) {
    const total = usedClusters + tableClusters + blocks;
    const needBlocks = Math.ceil(total / entriesPerBlock);
    const needTable = Math.ceil(needBlocks / entriesPerTableCluster);
    if (needBlocks <= blocks && needTable <= tableClusters) return { tableClusters, blocks };
    blocks = Math.max(blocks, needBlocks);
    tableClusters = Math.max(tableClusters, needTable);
  }
}

/** The refcount table: entry i is the offset of block i. */
export function encodeRefcountTable(layout: RefcountLayout, clusterBits: number, firstBlockOffset: number): Uint8Array {
  const table = new Uint8Array(layout.tableClusters * 2 ** clusterBits);
  const view = new DataView(table.buffer);
  for (let i = 0; i < layout.blocks; i++) {
    view.setBigUint64(i * 8, BigInt(firstBlockOffset + i * 2 ** clusterBits), false);
  }
  return table;
}

/** Refcount block `index` (16-bit entries) for the counts in `counter`. */
export function encodeRefcountBlock(counter: RefcountCounter, index: number): Uint8Array {
  const clusterSize = 2 ** counter.clusterBits;
  const block = new Uint8Array(clusterSize);
  const view = new DataView(block.buffer);
  const entries = clusterSize / 2;
  const first = index * entries;
  const end = Math.min(counter.clusterCount, first + entries);
  for (let c = first; c < end; c++) view.setUint16((c - first) * 2, counter.get(c), false);
  return block;
}

/**
 * Refcount block `index` (16-bit entries) for a file whose host clusters 0 to `total` - 1
 * are each referenced exactly once: what a sequentially written qcow2 needs, without a
 * counter per cluster.
 */
export function encodeUniformRefcountBlock(clusterBits: number, index: number, total: number): Uint8Array {
  const clusterSize = 2 ** clusterBits;
  const block = new Uint8Array(clusterSize);
  const view = new DataView(block.buffer);
  const entries = clusterSize / 2;
  const first = index * entries;
  const end = Math.min(total, first + entries);
  for (let c = first; c < end; c++) view.setUint16((c - first) * 2, 1, false);
  return block;
}
