/**
 * qcow2 version 3 writer (format-specs §1). The image is read once, in order, one cluster
 * at a time. Clusters holding only zeros stay unallocated; every other cluster is written
 * as it comes, right after the header cluster, either as is or (with `compress`) as a raw
 * DEFLATE stream packed byte-granular. The mapping and refcount metadata follow the data:
 *
 *   [header][data clusters / compressed streams][L2 tables][L1 table][refcount table][refcount blocks]
 *
 * and the header is written last. Only the L2 tables and one 16-bit count per host
 * cluster are kept in memory, so memory does not grow with the image data.
 */
import { constants as zlibConstants, deflateRaw, type ZlibOptions } from 'node:zlib';
import { isAllZero, readWindows, type BlockImage } from '../core/block-image.js';
import { ImageError, UsageError } from '../core/errors.js';
import type { OutputFile } from '../core/output-file.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import { SequentialWriter } from '../core/sequential-writer.js';
import {
  compressedEntry, checkClusterBits, copiedEntry, encodeQcow2Header, qcow2Geometry,
  MAX_REFCOUNT_TABLE_BYTES, REFCOUNT_ORDER,
} from './qcow2-format.js';
import { encodeRefcountBlock, encodeRefcountTable, RefcountCounter, refcountLayout } from './qcow2-refcount.js';

export interface Qcow2Options {
  /** log2 of the cluster size, 9 (512 B) to 21 (2 MiB); default 16 (64 KiB). */
  readonly clusterBits?: number;
  /** Store clusters as raw DEFLATE streams where that makes them smaller; default false. */
  readonly compress?: boolean;
}

/**
 * qemu compresses each cluster with deflateInit2(level Z_DEFAULT_COMPRESSION, windowBits -12,
 * memLevel 9); the same parameters here, as a raw stream (no zlib header or checksum).
 */
const DEFLATE_OPTIONS: ZlibOptions = {
  level: zlibConstants.Z_DEFAULT_COMPRESSION,
  windowBits: 12,
  memLevel: 9,
  strategy: zlibConstants.Z_DEFAULT_STRATEGY,
};

/** Bytes read at once: clusters are taken from windows this large. */
const BATCH = 1 << 20;

/** Clusters being compressed at once on the zlib thread pool. */
const COMPRESS_DEPTH = 16;

/**
 * Writes `image` into `out` as a qcow2 v3 (compat 1.1) image. The virtual size is the
 * image size rounded up to whole 512-byte sectors (qemu ignores a partial last sector).
 * The caller owns `out`: it commits on success and aborts on failure or cancellation.
 */
export async function writeQcow2(image: BlockImage, out: OutputFile, options: Qcow2Options = {}, control: PhasedControl = {}): Promise<void> {
  const { clusterBits, compress } = validateOptions(options);
  const { clusterSize, virtualSize, l2Entries, l1Size } = qcow2Geometry(image.size, clusterBits);

  const report = progressReporter(control, 'write qcow2', image.size);
  const step = throttledCheckpoint(control, 16);
  report(0);
  await checkpoint(control);

  const refcounts = new RefcountCounter(clusterBits);
  refcounts.addClusters(0); // header
  const writer = new SequentialWriter(out, clusterSize);
  /** L2 tables by L1 index, already in their on-disk (big-endian) form. */
  const l2Tables = new Map<number, DataView>();
  const setL2 = (guestCluster: number, entry: bigint): void => {
    const l1Index = Math.floor(guestCluster / l2Entries);
    let table = l2Tables.get(l1Index);
    if (table === undefined) {
      table = new DataView(new ArrayBuffer(clusterSize));
      l2Tables.set(l1Index, table);
    }
    table.setBigUint64((guestCluster % l2Entries) * 8, entry, false);
  };

  const placeCluster = (guestCluster: number, data: Uint8Array): void => {
    writer.alignTo(clusterSize);
    const at = writer.position;
    writer.write(data);
    refcounts.addClusters(at / clusterSize);
    setL2(guestCluster, copiedEntry(at));
  };
  const placeCompressed = (guestCluster: number, data: Uint8Array, stream: Uint8Array): void => {
    if (stream.length >= clusterSize) {
      placeCluster(guestCluster, data);
      return;
    }
    const at = writer.position;
    writer.write(stream);
    refcounts.addBytes(at, at + stream.length);
    setL2(guestCluster, compressedEntry(clusterBits, at, stream.length));
  };

  const pending: { readonly index: number; readonly data: Uint8Array; readonly stream: Promise<Uint8Array> }[] = [];
  const settleOldest = async (): Promise<void> => {
    const job = pending.shift()!;
    placeCompressed(job.index, job.data, await job.stream);
  };

  // Read in batches of clusters; a run of non-zero clusters is written as one piece (its
  // host clusters are consecutive too), so the cost per cluster is only its L2 entry.
  const batch = Math.max(clusterSize, BATCH);
  const perBatch = batch / clusterSize;
  for (const window of readWindows(image, batch)) {
    let runStart = -1;
    const endRun = (k: number): void => {
      if (runStart < 0) return;
      writer.alignTo(clusterSize);
      const at = writer.position;
      writer.write(window.data.subarray(runStart * clusterSize, k * clusterSize));
      for (let c = runStart; c < k; c++) {
        refcounts.addClusters(at / clusterSize + (c - runStart));
        setL2(window.index * perBatch + c, copiedEntry(at + (c - runStart) * clusterSize));
      }
      runStart = -1;
    };
    for (let k = 0; k < perBatch; k++) {
      const data = window.data.subarray(k * clusterSize, (k + 1) * clusterSize);
      if (isAllZero(data)) {
        endRun(k);
        continue;
      }
      if (compress) {
        const copy = data.slice();
        const stream = deflateCluster(copy);
        stream.catch(() => undefined); // a failure surfaces when the job is settled, not as an unhandled rejection
        pending.push({ index: window.index * perBatch + k, data: copy, stream });
        if (pending.length >= COMPRESS_DEPTH) await settleOldest();
      } else if (runStart < 0) {
        runStart = k;
      }
    }
    endRun(perBatch);
    const pause = step();
    if (pause !== undefined) {
      report((window.index + 1) * batch);
      await pause;
    }
  }
  while (pending.length > 0) await settleOldest();

  // L2 tables, in guest order.
  const l1 = new DataView(new ArrayBuffer(l1Size * 8));
  for (const l1Index of [...l2Tables.keys()].sort((a, b) => a - b)) {
    writer.alignTo(clusterSize);
    const at = writer.position;
    writer.write(new Uint8Array(l2Tables.get(l1Index)!.buffer));
    refcounts.addClusters(at / clusterSize);
    l1.setBigUint64(l1Index * 8, copiedEntry(at), false);
  }

  // L1 table (none at all for an empty image, as qemu does).
  writer.alignTo(clusterSize);
  let l1TableOffset = 0;
  if (l1Size > 0) {
    l1TableOffset = writer.position;
    writer.write(new Uint8Array(l1.buffer));
    refcounts.addClusters(l1TableOffset / clusterSize, Math.ceil(l1.byteLength / clusterSize));
    writer.alignTo(clusterSize);
  }

  // Refcount table and blocks, sized to describe themselves too.
  const refcountTableOffset = writer.position;
  const usedClusters = refcountTableOffset / clusterSize;
  const layout = refcountLayout(usedClusters, clusterBits, REFCOUNT_ORDER);
  if (layout.tableClusters * clusterSize > MAX_REFCOUNT_TABLE_BYTES) {
    throw new ImageError('qcow2.too-large', `Cannot write a ${refcountTableOffset}-byte qcow2 file with ${clusterSize}-byte clusters: its refcount table would exceed ${MAX_REFCOUNT_TABLE_BYTES} bytes`, {
      hint: 'use larger clusters',
    });
  }
  refcounts.addClusters(usedClusters, layout.tableClusters + layout.blocks);
  const firstBlockOffset = refcountTableOffset + layout.tableClusters * clusterSize;
  writer.write(encodeRefcountTable(layout, clusterBits, firstBlockOffset));
  for (let i = 0; i < layout.blocks; i++) writer.write(encodeRefcountBlock(refcounts, i));
  writer.flush();

  const header = encodeQcow2Header({
    clusterBits,
    size: virtualSize,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters: layout.tableClusters,
  });
  out.writeAt(0, header);
  out.truncate(writer.position);
  report(image.size);
}

function deflateCluster(data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, DEFLATE_OPTIONS, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
}

function validateOptions(options: Qcow2Options): { clusterBits: number; compress: boolean } {
  for (const key of Object.keys(options)) {
    if (key !== 'clusterBits' && key !== 'compress') {
      throw new UsageError('qcow2.unknown-option', `Cannot use qcow2 option "${key}": expected clusterBits or compress`);
    }
  }
  const clusterBits = checkClusterBits(options.clusterBits);
  const compress = options.compress ?? false;
  if (typeof compress !== 'boolean') {
    throw new UsageError('qcow2.compress', `Cannot use qcow2 compress "${String(compress)}": expected true or false`);
  }
  return { clusterBits, compress };
}
