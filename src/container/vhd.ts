/**
 * VHD writer ("vpc" in qemu; format-specs §2, docs/formats/vhd.md), fixed or dynamic.
 *
 *   fixed:    [disk bytes][footer]
 *   dynamic:  [footer copy][dynamic header][BAT][bitmap + 2 MiB block]...[footer]
 *
 * The image is read once, in order. A fixed disk is written like a raw image (windows of
 * zeros stay holes) with the footer after it. A dynamic disk allocates only blocks that hold
 * a non-zero byte: the BAT size is known up front, so blocks are appended right after the
 * space reserved for it and the BAT (one u32 per block, at most 4 MiB) is written last.
 * The footer's unique id comes from the seed and its timestamp from the epoch, so the
 * same image and options give the same bytes.
 */
import { isAllZero, readWindows, type BlockImage } from '../core/block-image.js';
import { ImageError, UsageError } from '../core/errors.js';
import { uuidToBytes } from '../core/guid.js';
import type { OutputFile } from '../core/output-file.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import { deriveUuid } from '../core/reproducible.js';
import { SequentialWriter } from '../core/sequential-writer.js';
import {
  BAT_OFFSET, BAT_UNALLOCATED, batBytes, BLOCK_BITMAP_SIZE, DISK_TYPE_DYNAMIC, DISK_TYPE_FIXED, DYNAMIC_HEADER_OFFSET,
  encodeDynamicHeader, encodeFooter, FOOTER_SIZE, VHD_BLOCK_SIZE, VHD_MAX_SIZE, VHD_SECTOR, vhdTimestamp,
} from './vhd-format.js';

export interface VhdOptions {
  readonly subformat: 'fixed' | 'dynamic';
  /** Identity for the footer's unique id; the id is derived from it (deterministic). */
  readonly seed: string;
  /** Footer timestamp (seconds since 1970; VHD counts from 2000-01-01, clamp). */
  readonly epoch: number;
}

const MiB = 1 << 20;
/** Fixed disks are written in 1 MiB windows, as raw images are. */
const FIXED_WINDOW = MiB;

/**
 * Writes `image` into `out` as a VHD. Fixed disks need a whole number of MiB (Azure's rule);
 * dynamic disks take any size, rounded up to whole 512-byte sectors. Either way the
 * footer's current size is the exact virtual size and qemu reads it as such. The caller
 * owns `out`: it commits on success and aborts on failure or cancellation.
 */
export async function writeVhd(image: BlockImage, out: OutputFile, options: VhdOptions, control: PhasedControl = {}): Promise<void> {
  const { subformat, seed, epoch } = validateOptions(options);
  const virtualSize = Math.ceil(image.size / VHD_SECTOR) * VHD_SECTOR;
  if (virtualSize === 0) {
    // qemu takes an empty fixed VHD's footer for a dynamic disk's, libvhdi refuses an empty BAT.
    throw new ImageError('vhd.empty', 'Cannot write an empty (0-byte) disk as VHD: readers refuse it');
  }
  if (virtualSize > VHD_MAX_SIZE) {
    throw new ImageError('vhd.too-large', `Cannot write a ${image.size}-byte disk as VHD: the format (as qemu and Hyper-V read it) holds at most ${VHD_MAX_SIZE} bytes (2040 GiB)`, {
      hint: 'use VHDX or qcow2 for larger disks',
    });
  }
  if (subformat === 'fixed' && image.size % MiB !== 0) {
    throw new ImageError('vhd.size-not-mib', `Cannot write a ${image.size}-byte disk as a fixed VHD: its size must be a whole number of MiB (${MiB} bytes), as Azure requires`, {
      hint: `round the disk size up to ${Math.ceil(image.size / MiB) * MiB} bytes (${Math.ceil(image.size / MiB)} MiB)`,
    });
  }
  const footer = encodeFooter({
    diskType: subformat === 'fixed' ? DISK_TYPE_FIXED : DISK_TYPE_DYNAMIC,
    size: virtualSize,
    timestamp: vhdTimestamp(epoch),
    uniqueId: uuidToBytes(deriveUuid(seed, 'vhd-unique-id')),
  });
  const phase = subformat === 'fixed' ? 'write vhd (fixed)' : 'write vhd (dynamic)';
  const report = progressReporter(control, phase, image.size);
  report(0);
  await checkpoint(control);
  if (subformat === 'fixed') await writeFixed(image, out, footer, control, report);
  else await writeDynamic(image, out, footer, virtualSize, control, report);
  report(image.size);
}

async function writeFixed(image: BlockImage, out: OutputFile, footer: Uint8Array, control: PhasedControl, report: (done: number) => void): Promise<void> {
  const step = throttledCheckpoint(control, 128);
  // Every zero region is declared, skipped windows included, so the output hashes in passing.
  let written = 0;
  for (const window of readWindows(image, FIXED_WINDOW)) {
    const at = window.index * FIXED_WINDOW;
    out.skipZeros(written, at - written);
    // The size is a whole number of MiB, so every window lies entirely inside the disk.
    out.writeOrSkipZeros(at, window.data);
    written = at + FIXED_WINDOW;
    const pause = step();
    if (pause !== undefined) {
      report(at + FIXED_WINDOW);
      await pause;
    }
  }
  out.skipZeros(written, image.size - written);
  out.writeAt(image.size, footer);
  out.truncate(image.size + FOOTER_SIZE);
}

async function writeDynamic(image: BlockImage, out: OutputFile, footer: Uint8Array, virtualSize: number, control: PhasedControl, report: (done: number) => void): Promise<void> {
  const step = throttledCheckpoint(control, 64);
  // Exactly as many entries as the size needs: Azure rejects a BAT longer than that.
  const entries = Math.ceil(virtualSize / VHD_BLOCK_SIZE);
  const bat = new Uint32Array(entries).fill(BAT_UNALLOCATED);
  const tableBytes = batBytes(entries);
  const writer = new SequentialWriter(out, BAT_OFFSET + tableBytes);
  const bitmap = new Uint8Array(BLOCK_BITMAP_SIZE).fill(0xff);
  for (const window of readWindows(image, VHD_BLOCK_SIZE)) {
    if (!isAllZero(window.data)) {
      // Every sector of an allocated block is marked present, as qemu does.
      bat[window.index] = writer.position / VHD_SECTOR;
      writer.write(bitmap);
      writer.write(window.data);
    }
    const pause = step();
    if (pause !== undefined) {
      report((window.index + 1) * VHD_BLOCK_SIZE);
      await pause;
    }
  }
  const end = writer.position + FOOTER_SIZE;
  if (end > 0x100000000 * VHD_SECTOR) {
    throw new ImageError('vhd.too-large', `Internal error: a dynamic VHD file of ${end} bytes cannot be addressed by 32-bit sector numbers`);
  }
  writer.write(footer);
  writer.flush();

  const table = new Uint8Array(tableBytes).fill(0xff);
  const view = new DataView(table.buffer);
  for (let i = 0; i < entries; i++) view.setUint32(i * 4, bat[i]!, false);
  out.writeAt(0, footer);
  out.writeAt(DYNAMIC_HEADER_OFFSET, encodeDynamicHeader(entries));
  out.writeAt(BAT_OFFSET, table);
  out.truncate(end);
}

function validateOptions(options: VhdOptions): VhdOptions {
  for (const key of Object.keys(options)) {
    if (key !== 'subformat' && key !== 'seed' && key !== 'epoch') {
      throw new UsageError('vhd.unknown-option', `Cannot use VHD option "${key}": expected subformat, seed or epoch`);
    }
  }
  const { subformat, seed, epoch } = options;
  if (subformat !== 'fixed' && subformat !== 'dynamic') {
    throw new UsageError('vhd.subformat', `Cannot use VHD subformat "${String(subformat)}": expected fixed or dynamic`);
  }
  if (typeof seed !== 'string' || seed === '') {
    throw new UsageError('vhd.seed', `Cannot use VHD seed ${JSON.stringify(seed)}: expected a non-empty string`);
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new UsageError('vhd.epoch', `Cannot use VHD epoch ${String(epoch)}: expected whole seconds since 1970`);
  }
  return { subformat, seed, epoch };
}
