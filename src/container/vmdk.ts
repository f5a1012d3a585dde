/**
 * VMDK writers (format-specs §4), reading the image once, in order, one 64 KiB grain at a time.
 *
 * monolithicSparse (seekable), laid out as qemu-img lays it out:
 *   [header][descriptor, 20 sectors][redundant GD][its GTs][GD][its GTs] ... [grains]
 * every grain table preallocated; grains holding only zeros stay unallocated (entry 0).
 * Each grain table is written once its 512 grains are past, so only one is in memory.
 *
 * streamOptimized (strictly sequential, for OVA and Vagrant boxes), as VMware's and
 * VirtualBox's stream writers lay it out:
 *   [header, gdOffset = GD_AT_END][descriptor][pad to 64 KiB]
 *   { [grain marker + zlib stream, padded to a sector] ... [GT marker][GT] } per 512-grain range
 *   [GD marker][GD][footer marker][footer = header with the real gdOffset][end-of-stream sector]
 * Ranges without data get no grain table (GD entry 0). Grains are compressed on the libuv
 * thread pool, several at once, or found in the unit cache by their content (a grain's
 * stream does not depend on where it lies), and written strictly in order.
 */
import { basename } from 'node:path';
import { constants as zlibConstants, deflate, type ZlibOptions } from 'node:zlib';
import { CacheReadMemory, cachedUnit } from '../compress/cached-unit.js';
import type { UnitCache } from '../core/unit-cache.js';
import { isAllZero, readWindows, type BlockImage } from '../core/block-image.js';
import { ImageError, UsageError } from '../core/errors.js';
import type { OutputFile } from '../core/output-file.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import { outputFileSink, type ByteSink } from '../core/sink.js';
import { SequentialWriter } from '../core/sequential-writer.js';
import {
  descriptorSectors, DESCRIPTOR_SECTORS, encodeHeader, FLAG_COMPRESSED, FLAG_MARKERS, FLAG_NEWLINE_TEST, FLAG_REDUNDANT_GD,
  GD_AT_END, geometry, GRAIN_BYTES, GRAIN_SECTORS, GT_SECTORS, GTES_PER_GT, MARKER_EOS, MARKER_FOOTER, MARKER_GD,
  MARKER_GT, markerSector, SECTOR, validateDescriptorOptions, type VmdkAdapterType, type VmdkSubformat,
} from './vmdk-format.js';

/** Bytes read at once (sparse writer): grains are taken from windows this large. */
const BATCH = 1 << 20;

export interface VmdkOptions {
  readonly subformat: VmdkSubformat;
  /** Identifiers (the CID) are derived from it. */
  readonly seed: string;
  /** Default 'ide', as qemu-img. */
  readonly adapterType?: VmdkAdapterType;
  /** ddb.virtualHWVersion; default "4", as qemu-img. */
  readonly hwVersion?: string;
  /** Extent file name in the descriptor; default the output's name (writeVmdk) or "disk.vmdk". */
  readonly fileName?: string;
  /** streamOptimized: each grain's zlib stream looked up by the grain's content (`--cache`); never changes the bytes. */
  readonly cache?: UnitCache | undefined;
}

/** Largest sector number a grain table entry can hold. */
const MAX_SECTOR = 2 ** 32 - 1;
/** Grains being compressed at once. */
const COMPRESS_DEPTH = 16;
/** qemu and VirtualBox compress each grain as one zlib stream at the default level. */
const ZLIB_OPTIONS: ZlibOptions = { level: zlibConstants.Z_DEFAULT_COMPRESSION };
/** What decides a grain's zlib stream besides its bytes: the cache key's settings. */
const GRAIN_SETTINGS = `vmdk-grain 1 level ${ZLIB_OPTIONS.level} zlib ${process.versions.zlib}`;

/**
 * Writes `image` into `out` as a VMDK of the given subformat. The virtual size is the image
 * size rounded up to whole sectors. The caller owns `out`: it commits on success and aborts
 * on failure or cancellation.
 */
export async function writeVmdk(image: BlockImage, out: OutputFile, options: VmdkOptions, control: PhasedControl = {}): Promise<void> {
  const fileName = options.fileName ?? basename(out.finalPath);
  if (options.subformat === 'streamOptimized') {
    const sink = outputFileSink(out);
    await writeVmdkStream(image, sink, { ...options, fileName }, control);
    await sink.close();
    out.truncate(sink.position);
    return;
  }
  validateDescriptorOptions({ ...options, fileName });
  const g = geometry(image.size);
  const rgdOffset = 1 + DESCRIPTOR_SECTORS;
  const gdOffset = rgdOffset + g.gdSectors + g.tables * GT_SECTORS;
  const overHead = Math.ceil((gdOffset + g.gdSectors + g.tables * GT_SECTORS) / GRAIN_SECTORS) * GRAIN_SECTORS;
  if (overHead > MAX_SECTOR) throw tooLarge(image.size);

  const report = progressReporter(control, 'write vmdk', image.size);
  const step = throttledCheckpoint(control, 16);
  report(0);
  await checkpoint(control);

  // Header, descriptor and both grain directories (their tables are placed up front).
  const head = new Uint8Array(rgdOffset * SECTOR);
  head.set(encodeHeader({
    version: 1, flags: FLAG_NEWLINE_TEST | FLAG_REDUNDANT_GD, capacity: g.capacity,
    rgdOffset, gdOffset, overHead, compress: false,
  }), 0);
  head.set(descriptorSectors(g.capacity, { ...options, fileName }), SECTOR);
  out.writeAt(0, head);
  for (const [dir, tablesAt] of [[rgdOffset, rgdOffset + g.gdSectors], [gdOffset, gdOffset + g.gdSectors]] as const) {
    const gd = new DataView(new ArrayBuffer(g.gdSectors * SECTOR));
    for (let t = 0; t < g.tables; t++) gd.setUint32(t * 4, tablesAt + t * GT_SECTORS, true);
    out.writeAt(dir * SECTOR, new Uint8Array(gd.buffer));
  }

  const writer = new SequentialWriter(out, overHead * SECTOR);
  let table = new DataView(new ArrayBuffer(GT_SECTORS * SECTOR));
  let tableIndex = -1;
  let tableUsed = false;
  const flushTable = (): void => {
    if (tableIndex >= 0 && tableUsed) {
      const bytes = new Uint8Array(table.buffer);
      out.writeAt((rgdOffset + g.gdSectors + tableIndex * GT_SECTORS) * SECTOR, bytes);
      out.writeAt((gdOffset + g.gdSectors + tableIndex * GT_SECTORS) * SECTOR, bytes);
      table = new DataView(new ArrayBuffer(GT_SECTORS * SECTOR));
    }
    tableUsed = false;
  };

  // Read in batches of grains; a run of non-zero grains is written as one piece. A batch
  // lies inside one grain table (a table covers 32 MiB).
  const perBatch = BATCH / GRAIN_BYTES;
  for (const window of readWindows(image, BATCH)) {
    const t = Math.floor((window.index * perBatch) / GTES_PER_GT);
    let runStart = -1;
    const endRun = (k: number): void => {
      if (runStart < 0) return;
      const sector = writer.position / SECTOR;
      if (sector + (k - runStart) * GRAIN_SECTORS - 1 > MAX_SECTOR) throw tooLarge(image.size);
      if (t !== tableIndex) {
        flushTable();
        tableIndex = t;
      }
      writer.write(window.data.subarray(runStart * GRAIN_BYTES, k * GRAIN_BYTES));
      for (let grain = runStart; grain < k; grain++) {
        table.setUint32(((window.index * perBatch + grain) % GTES_PER_GT) * 4, sector + (grain - runStart) * GRAIN_SECTORS, true);
      }
      tableUsed = true;
      runStart = -1;
    };
    for (let k = 0; k < perBatch; k++) {
      if (isAllZero(window.data.subarray(k * GRAIN_BYTES, (k + 1) * GRAIN_BYTES))) endRun(k);
      else if (runStart < 0) runStart = k;
    }
    endRun(perBatch);
    const pause = step();
    if (pause !== undefined) {
      report((window.index + 1) * BATCH);
      await pause;
    }
  }
  flushTable();
  writer.flush();
  out.truncate(writer.position);
  report(image.size);
}

/**
 * Writes `image` as a streamOptimized VMDK to `sink`, strictly in order, and closes nothing:
 * the caller closes the sink. The bytes written are a whole number of sectors.
 */
export async function writeVmdkStream(image: BlockImage, sink: ByteSink, options: VmdkOptions, control: PhasedControl = {}): Promise<void> {
  if (options.subformat !== 'streamOptimized') {
    throw new UsageError('vmdk.stream-subformat', `Cannot stream a ${String(options.subformat)} VMDK: only streamOptimized is written sequentially`, {
      hint: 'use writeVmdk with an output file',
    });
  }
  const fileName = options.fileName ?? 'disk.vmdk';
  validateDescriptorOptions({ ...options, fileName });
  const g = geometry(image.size);
  const overHead = Math.ceil((1 + DESCRIPTOR_SECTORS) / GRAIN_SECTORS) * GRAIN_SECTORS;
  const headerValues = {
    version: 3, flags: FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS, capacity: g.capacity,
    rgdOffset: 0, overHead, compress: true,
  };

  const report = progressReporter(control, 'write vmdk', image.size);
  const step = throttledCheckpoint(control, 64);
  report(0);
  await checkpoint(control);

  let sectors = 0; // sectors written so far
  const put = async (data: Uint8Array): Promise<void> => {
    await sink.write(data);
    sectors += data.length / SECTOR;
  };

  const head = new Uint8Array(overHead * SECTOR);
  head.set(encodeHeader({ ...headerValues, gdOffset: GD_AT_END }), 0);
  head.set(descriptorSectors(g.capacity, { ...options, fileName }), SECTOR);
  await put(head);

  const directory = new DataView(new ArrayBuffer(g.gdSectors * SECTOR));
  let table = new DataView(new ArrayBuffer(GT_SECTORS * SECTOR));
  let tableIndex = -1;
  let tableUsed = false;
  const flushTable = async (): Promise<void> => {
    if (tableIndex >= 0 && tableUsed) {
      await put(markerSector(MARKER_GT, GT_SECTORS));
      directory.setUint32(tableIndex * 4, sectors, true);
      await put(new Uint8Array(table.buffer));
      table = new DataView(new ArrayBuffer(GT_SECTORS * SECTOR));
    }
    tableUsed = false;
  };

  const placeGrain = async (index: number, stream: Uint8Array): Promise<void> => {
    const t = Math.floor(index / GTES_PER_GT);
    if (t !== tableIndex) {
      await flushTable();
      tableIndex = t;
    }
    if (sectors > MAX_SECTOR) throw tooLarge(image.size);
    // Grain marker: u64 LBA of the grain, u32 compressed length, then the stream, padded.
    const record = new Uint8Array(Math.ceil((12 + stream.length) / SECTOR) * SECTOR);
    const view = new DataView(record.buffer);
    view.setBigUint64(0, BigInt(index * GRAIN_SECTORS), true);
    view.setUint32(8, stream.length, true);
    record.set(stream, 12);
    table.setUint32((index % GTES_PER_GT) * 4, sectors, true);
    tableUsed = true;
    await put(record);
  };

  const { cache } = options;
  const memory = new CacheReadMemory();
  const pending: { readonly index: number; readonly stream: Promise<Uint8Array> }[] = [];
  const settleOldest = async (): Promise<void> => {
    const job = pending.shift()!;
    const stream = await job.stream;
    await placeGrain(job.index, stream);
    memory.giveBackViewOf(stream); // copied into the grain's record
  };
  try {
    for (const window of readWindows(image, GRAIN_BYTES)) {
      if (!isAllZero(window.data)) {
        // Always a whole grain: readers (VirtualBox) expect every grain to inflate to 64 KiB.
        const grain = window.data.slice();
        const stream = cachedUnit(cache, 'vmdk grain', GRAIN_SETTINGS, [grain], () => compressGrain(grain), memory);
        stream.catch(() => undefined); // surfaces when settled, not as an unhandled rejection
        pending.push({ index: window.index, stream });
        if (pending.length >= COMPRESS_DEPTH) await settleOldest();
      }
      const pause = step();
      if (pause !== undefined) {
        report((window.index + 1) * GRAIN_BYTES);
        await pause;
      }
    }
    while (pending.length > 0) await settleOldest();
  } finally {
    pending.length = 0;
  }
  await flushTable();

  await put(markerSector(MARKER_GD, g.gdSectors));
  const gdOffset = sectors;
  await put(new Uint8Array(directory.buffer));
  await put(markerSector(MARKER_FOOTER, 1));
  await put(encodeHeader({ ...headerValues, gdOffset }));
  await put(markerSector(MARKER_EOS, 0));
  report(image.size);
}

function compressGrain(data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    deflate(data, ZLIB_OPTIONS, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
}

function tooLarge(size: number): ImageError {
  return new ImageError('vmdk.too-large', `Cannot write a ${size}-byte image as a sparse VMDK: its data would lie past 2 TiB, the most a grain table entry can address`, {
    hint: 'use qcow2, or a smaller disk',
  });
}
