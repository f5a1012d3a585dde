/**
 * qcow2 version 3, written strictly in order into a ByteSink (for `nixos.qcow2.gz` and
 * other compressed qcow2 outputs: nothing is ever sought back to). The layout is computed
 * up front from the image's coverage (or its segment list), which gives offsets and
 * lengths without reading any data: every guest cluster a segment touches is allocated
 * (conservatively: one that turns out all zeros is stored as zeros), every other cluster
 * stays unallocated. Then the
 * file is emitted in the order qemu-img convert uses:
 *
 *   [header][refcount table][refcount blocks][L1 table][L2 tables][data clusters]
 *
 * with data clusters in guest order, so each L2 entry is known before any data is read.
 * The image data is read once, in order. Memory holds the list of allocated runs (one
 * entry per stretch of consecutive touched clusters), the L1 table and one L2 table.
 * Compressed clusters are not available here: their sizes are unknown until compressed,
 * and the mapping precedes the data.
 */
import { coverageOf, type BlockImage } from '../core/block-image.js';
import type { FileIdentity } from '../core/described-spans.js';
import { progressEvery, streamImageData } from './image-stream.js';
import { ImageError, UsageError } from '../core/errors.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import type { ByteSink } from '../core/sink.js';
import {
  checkClusterBits, copiedEntry, encodeQcow2Header, qcow2Geometry,
  MAX_REFCOUNT_TABLE_BYTES, REFCOUNT_ORDER,
} from './qcow2-format.js';
import { encodeRefcountTable, encodeUniformRefcountBlock, refcountLayout } from './qcow2-refcount.js';

export interface Qcow2StreamOptions {
  /** log2 of the cluster size, 9 (512 B) to 21 (2 MiB); default 16 (64 KiB). */
  readonly clusterBits?: number;
  /**
   * Names the closure's files: with a sink that takes described spans (gzip with content
   * boundaries), the data is handed over in spans it may have cached, whose files are then
   * not read. Part of the output's identity (the spans decide the compressed units).
   */
  readonly identify?: FileIdentity | undefined;
}

const ZEROS = new Uint8Array(1 << 16);

/** Stretches of consecutive allocated guest clusters, [start, end), ascending. */
interface Runs {
  readonly starts: number[];
  readonly ends: number[];
  /** Allocated clusters before each run: the run's first data cluster is the before[r]-th. */
  readonly before: number[];
  readonly clusters: number;
}

/**
 * Writes `image` into `sink` as a qcow2 v3 (compat 1.1) image, in order. The virtual size
 * is the image size rounded up to whole 512-byte sectors. The sink is not closed: the
 * caller closes it (and commits its OutputFile) on success, or aborts on failure.
 */
export async function writeQcow2Stream(image: BlockImage, sink: ByteSink, options: Qcow2StreamOptions = {}, control: PhasedControl = {}): Promise<void> {
  const clusterBits = validateOptions(options);
  const { clusterSize, virtualSize, l2Entries, l1Size } = qcow2Geometry(image.size, clusterBits);

  const report = progressReporter(control, 'write qcow2', image.size);
  const step = throttledCheckpoint(control, 256);
  report(0);
  await checkpoint(control);

  // Layout, from the segment list alone.
  const runs = allocatedRuns(image, clusterSize);
  const l2Indexes = tableIndexes(runs, l2Entries);
  const l1Clusters = Math.ceil((l1Size * 8) / clusterSize);
  const used = 1 + l1Clusters + l2Indexes.length + runs.clusters;
  const refcounts = refcountLayout(used, clusterBits, REFCOUNT_ORDER);
  if (refcounts.tableClusters * clusterSize > MAX_REFCOUNT_TABLE_BYTES) {
    throw new ImageError('qcow2.too-large', `Cannot write a qcow2 file of ${used} ${clusterSize}-byte clusters: its refcount table would exceed ${MAX_REFCOUNT_TABLE_BYTES} bytes`, {
      hint: 'use larger clusters',
    });
  }
  const total = used + refcounts.tableClusters + refcounts.blocks;
  const refcountTableOffset = clusterSize;
  const firstBlockOffset = refcountTableOffset + refcounts.tableClusters * clusterSize;
  const l1TableOffset = l1Size > 0 ? firstBlockOffset + refcounts.blocks * clusterSize : 0;
  const firstL2Offset = firstBlockOffset + (refcounts.blocks + l1Clusters) * clusterSize;
  const dataOffset = firstL2Offset + l2Indexes.length * clusterSize;

  let written = 0;
  const write = (data: Uint8Array): Promise<void> => {
    written += data.length;
    return sink.write(data);
  };

  // Header cluster, refcount table and blocks.
  const headerCluster = new Uint8Array(clusterSize);
  headerCluster.set(encodeQcow2Header({
    clusterBits,
    size: virtualSize,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters: refcounts.tableClusters,
  }));
  await write(headerCluster);
  await write(encodeRefcountTable(refcounts, clusterBits, firstBlockOffset));
  for (let i = 0; i < refcounts.blocks; i++) await write(encodeUniformRefcountBlock(clusterBits, i, total));

  // L1 table (none at all for an empty image, as qemu does).
  if (l1Size > 0) {
    const l1 = new Uint8Array(l1Clusters * clusterSize);
    const view = new DataView(l1.buffer);
    l2Indexes.forEach((l1Index, k) => view.setBigUint64(l1Index * 8, copiedEntry(firstL2Offset + k * clusterSize), false));
    await write(l1);
  }

  // L2 tables: data clusters follow in guest order, so the k-th allocated cluster is at
  // dataOffset + k * clusterSize.
  const table = new Uint8Array(clusterSize);
  const tableView = new DataView(table.buffer);
  let run = 0;
  for (const l1Index of l2Indexes) {
    table.fill(0);
    const first = l1Index * l2Entries;
    const end = first + l2Entries;
    while (runs.ends[run]! <= first) run++;
    for (let r = run; r < runs.starts.length && runs.starts[r]! < end; r++) {
      const start = runs.starts[r]!;
      const host = dataOffset + (runs.before[r]! - start) * clusterSize; // + c * clusterSize
      for (let c = Math.max(first, start); c < Math.min(end, runs.ends[r]!); c++) {
        tableView.setBigUint64((c - first) * 8, copiedEntry(host + c * clusterSize), false);
      }
    }
    await write(table);
    const pause = step();
    if (pause !== undefined) await pause;
  }

  // Data clusters, in guest order: every allocated cluster, whole, and only those.
  let dataRun = 0;
  const dataStart = runs.starts.length > 0 ? runs.starts[0]! * clusterSize : 0;
  // Written here, or placed by the sink from its cache.
  const placed = await streamImageData(image, sink, options.identify, dataStart, runs.ends.length > 0 ? runs.ends.at(-1)! * clusterSize : 0, {
    write,
    // Zeros over allocated clusters only.
    fill: async (from, to) => {
      let at = from;
      while (at < to) {
        const runEnd = runs.ends[dataRun]! * clusterSize;
        if (at === runEnd) {
          dataRun++;
          const next = runs.starts[dataRun];
          if (next === undefined || next * clusterSize > to) {
            throw new ImageError('qcow2.segments-changed', `Internal error: the image's segments changed between listing and reading (offset ${to})`);
          }
          at = next * clusterSize;
          continue;
        }
        const length = Math.min(to, runEnd, at + ZEROS.length) - at;
        await write(ZEROS.subarray(0, length));
        at += length;
      }
    },
    moved: progressEvery(control, report),
  });
  written += placed;
  if (written !== total * clusterSize) {
    throw new ImageError('qcow2.layout', `Internal error: wrote ${written} bytes of qcow2 for a layout of ${total} clusters`);
  }
  report(image.size);
}

/** The guest clusters any segment touches (from the image's coverage), merged into ascending runs. */
function allocatedRuns(image: BlockImage, clusterSize: number): Runs {
  const starts: number[] = [];
  const ends: number[] = [];
  const before: number[] = [];
  let clusters = 0;
  let previousEnd = 0;
  for (const s of coverageOf(image)) {
    if (s.length === 0) continue;
    if (s.offset < previousEnd || s.offset + s.length > image.size) {
      throw new ImageError('image.segment-order', `Internal error: segment at ${s.offset} (+${s.length}) overlaps the previous one ending at ${previousEnd} or the image size ${image.size}`);
    }
    previousEnd = s.offset + s.length;
    const first = Math.floor(s.offset / clusterSize);
    const end = Math.floor((s.offset + s.length - 1) / clusterSize) + 1;
    const last = ends.length - 1;
    if (last >= 0 && first <= ends[last]!) {
      if (end > ends[last]!) {
        clusters += end - ends[last]!;
        ends[last] = end;
      }
    } else {
      starts.push(first);
      ends.push(end);
      before.push(clusters);
      clusters += end - first;
    }
  }
  return { starts, ends, before, clusters };
}

/** The L1 indexes whose L2 table maps at least one allocated cluster, ascending. */
function tableIndexes(runs: Runs, l2Entries: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < runs.starts.length; r++) {
    const first = Math.floor(runs.starts[r]! / l2Entries);
    const last = Math.floor((runs.ends[r]! - 1) / l2Entries);
    for (let i = Math.max(first, (out.at(-1) ?? -1) + 1); i <= last; i++) out.push(i);
  }
  return out;
}

function validateOptions(options: Qcow2StreamOptions): number {
  for (const key of Object.keys(options)) {
    if (key === 'compress') {
      throw new UsageError('qcow2.stream-compress', 'Cannot write compressed qcow2 clusters to a stream: their sizes are unknown until compressed, and the mapping comes first', {
        hint: 'compress the whole stream (gzip, zstd) instead, or write to a file with writeQcow2',
      });
    }
    if (key !== 'clusterBits' && key !== 'identify') {
      throw new UsageError('qcow2.unknown-option', `Cannot use qcow2 option "${key}": expected clusterBits or identify`);
    }
  }
  const clusterBits = checkClusterBits(options.clusterBits);
  return clusterBits;
}
