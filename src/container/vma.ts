/**
 * Proxmox VMA (Virtual Machine Archive) version 1 writer: the format of Proxmox VE's
 * `vzdump-qemu-*.vma` backups, which nixpkgs' proxmox-image.nix produces with
 * `vma create` and compresses with zstd. The archive is written strictly in order into a
 * ByteSink (so `.vma.zst` is this writer into zstdSink):
 *
 *   [header: fixed 12288 bytes + blob buffer (config name and text, device name)]
 *   [extent]*: 512-byte header (59 blockinfo slots) + the non-zero 4 KiB blocks of up to
 *              59 consecutive 64 KiB clusters
 *
 * Every cluster of the device is listed once, in order, all-zero ones with an empty mask,
 * as Proxmox's reader requires. The image is read once, in order; memory holds one extent
 * (under 4 MiB). The uuid comes from the seed and ctime from the epoch, so the same inputs
 * give the same bytes (`vma create` uses a random uuid and the current time).
 */
import { isAllZero, readWindows, type BlockImage } from '../core/block-image.js';
import { ImageError, UsageError } from '../core/errors.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import { deriveBytes } from '../core/reproducible.js';
import type { ByteSink } from '../core/sink.js';
import {
  BlobBuffer, blockInfoWords, md5WithFieldZeroed, VMA_BLOCK_SIZE, VMA_BLOCKINFO_AT, VMA_BLOCKS_PER_CLUSTER,
  VMA_CLUSTER_SIZE, VMA_CLUSTERS_PER_EXTENT, VMA_CONFIG_DATA_AT, VMA_CONFIG_NAMES_AT, VMA_DEV_INFO_AT,
  VMA_DEV_INFO_SIZE, VMA_EXTENT_HEADER_SIZE, VMA_EXTENT_MAGIC, VMA_HEADER_FIXED_SIZE, VMA_MAGIC, VMA_MAX_BLOB,
  VMA_VERSION, vmaDeviceInfo, vmaExtentHeader, vmaHeader,
} from './vma-format.js';

export interface VmaOptions {
  /** The VM configuration (qemu-server.conf text), stored as the config blob "qemu-server.conf". */
  readonly config: string;
  /** The device name, e.g. "drive-virtio0"; it must match the config's `#qmdump#map` line. */
  readonly deviceName: string;
  /** Seed of the archive uuid. */
  readonly seed: string;
  /** ctime, seconds since 1970 (SOURCE_DATE_EPOCH). */
  readonly epoch: number;
}

export const VMA_CONFIG_NAME = 'qemu-server.conf';
/** The only device of the archive. */
const DEV_ID = 1;

/**
 * Writes `image` into `sink` as a VMA archive with one device. The sink is not closed: the
 * caller closes it (and commits its OutputFile) on success, or aborts on failure.
 */
export async function writeVma(image: BlockImage, sink: ByteSink, options: VmaOptions, control: PhasedControl = {}): Promise<void> {
  const { config, deviceName, uuid, ctime } = validateOptions(image, options);
  const report = progressReporter(control, 'write vma', image.size);
  const step = throttledCheckpoint(control, 256);
  report(0);
  await checkpoint(control);

  await sink.write(encodeVmaHeader({ uuid, ctime, configs: [[VMA_CONFIG_NAME, config]], devices: [[deviceName, image.size]] }));

  const clusters = Math.ceil(image.size / VMA_CLUSTER_SIZE);
  const extent = new Uint8Array(VMA_EXTENT_HEADER_SIZE + VMA_CLUSTERS_PER_EXTENT * VMA_CLUSTER_SIZE);
  const extentView = new DataView(extent.buffer);
  let listed = 0; // clusters in the current extent
  let used = VMA_EXTENT_HEADER_SIZE; // bytes of the current extent

  const flush = async (): Promise<void> => {
    extent.fill(0, 0, VMA_BLOCKINFO_AT);
    vmaExtentHeader.encode({
      magic: VMA_EXTENT_MAGIC,
      reserved1: 0,
      blockCount: (used - VMA_EXTENT_HEADER_SIZE) / VMA_BLOCK_SIZE,
      uuid,
    }, extent);
    const header = extent.subarray(0, VMA_EXTENT_HEADER_SIZE);
    extent.set(md5WithFieldZeroed(header, vmaExtentHeader.offsetOf('md5sum')), vmaExtentHeader.offsetOf('md5sum'));
    await sink.write(extent.subarray(0, used));
    extent.fill(0, 0, VMA_EXTENT_HEADER_SIZE);
    listed = 0;
    used = VMA_EXTENT_HEADER_SIZE;
  };

  const windows = readWindows(image, VMA_CLUSTER_SIZE);
  let next = windows.next();
  for (let cluster = 0; cluster < clusters; cluster++) {
    let mask = 0;
    if (next.done !== true && next.value.index === cluster) {
      const data = next.value.data;
      for (let block = 0; block < VMA_BLOCKS_PER_CLUSTER; block++) {
        const bytes = data.subarray(block * VMA_BLOCK_SIZE, (block + 1) * VMA_BLOCK_SIZE);
        if (isAllZero(bytes)) continue;
        mask |= 1 << block;
        extent.set(bytes, used);
        used += VMA_BLOCK_SIZE;
      }
      next = windows.next();
    }
    const [high, low] = blockInfoWords(mask, DEV_ID, cluster);
    extentView.setUint32(VMA_BLOCKINFO_AT + listed * 8, high, false);
    extentView.setUint32(VMA_BLOCKINFO_AT + listed * 8 + 4, low, false);
    if (++listed === VMA_CLUSTERS_PER_EXTENT) await flush();
    const pause = step();
    if (pause !== undefined) {
      report((cluster + 1) * VMA_CLUSTER_SIZE);
      await pause;
    }
  }
  if (listed > 0) await flush();
  if (next.done !== true) {
    throw new ImageError('vma.segments-changed', `Internal error: the image has data past its ${clusters} clusters`);
  }
  report(image.size);
}

export interface VmaHeaderInput {
  readonly uuid: Uint8Array;
  readonly ctime: number;
  /** [name, text] of each config blob, in order. */
  readonly configs: readonly (readonly [string, string])[];
  /** [name, size in bytes] of each device; dev_id = position + 1. */
  readonly devices: readonly (readonly [string, number])[];
}

/**
 * The header: fixed part, then the blob buffer holding the config names and texts (in
 * order), then the device names, as Proxmox's writer adds them; md5 over all of it.
 */
export function encodeVmaHeader(input: VmaHeaderInput): Uint8Array {
  const blobs = new BlobBuffer();
  const configPointers = input.configs.map(([name, text]) => [blobs.addString(name), blobs.add(new TextEncoder().encode(text))] as const);
  const devicePointers = input.devices.map(([name, size]) => [blobs.addString(name), size] as const);
  const headerSize = VMA_HEADER_FIXED_SIZE + blobs.allocated.length;
  const header = new Uint8Array(headerSize);
  const view = new DataView(header.buffer);
  vmaHeader.encode({
    magic: VMA_MAGIC,
    version: VMA_VERSION,
    uuid: input.uuid,
    ctime: input.ctime,
    blobBufferOffset: VMA_HEADER_FIXED_SIZE,
    blobBufferSize: blobs.usedSize,
    headerSize,
  }, header);
  configPointers.forEach(([name, data], i) => {
    view.setUint32(VMA_CONFIG_NAMES_AT + 4 * i, name, false);
    view.setUint32(VMA_CONFIG_DATA_AT + 4 * i, data, false);
  });
  devicePointers.forEach(([name, size], i) => {
    vmaDeviceInfo.encode({ devnamePtr: name, size }, header, VMA_DEV_INFO_AT + VMA_DEV_INFO_SIZE * (i + 1));
  });
  header.set(blobs.allocated, VMA_HEADER_FIXED_SIZE);
  header.set(md5WithFieldZeroed(header, vmaHeader.offsetOf('md5sum')), vmaHeader.offsetOf('md5sum'));
  return header;
}

/** A version-4-shaped uuid from the seed (vma create uses a random one). */
export function vmaUuid(seed: string): Uint8Array {
  const uuid = deriveBytes(seed, 'vma-uuid', 16);
  uuid[6] = (uuid[6]! & 0x0f) | 0x40;
  uuid[8] = (uuid[8]! & 0x3f) | 0x80;
  return uuid;
}

function validateOptions(image: BlockImage, options: VmaOptions): { config: string; deviceName: string; uuid: Uint8Array; ctime: number } {
  for (const key of Object.keys(options)) {
    if (key !== 'config' && key !== 'deviceName' && key !== 'seed' && key !== 'epoch') {
      throw new UsageError('vma.unknown-option', `Cannot use VMA option "${key}": expected config, deviceName, seed or epoch`);
    }
  }
  const { config, deviceName, seed, epoch } = options;
  if (typeof config !== 'string' || config.length === 0) {
    throw new UsageError('vma.config', 'Cannot write a VMA archive without a VM configuration: the qemu-server.conf text is empty');
  }
  const configBytes = Buffer.byteLength(config, 'utf8');
  if (configBytes > VMA_MAX_BLOB) {
    throw new UsageError('vma.config', `Cannot store a ${configBytes}-byte qemu-server.conf in a VMA archive: at most ${VMA_MAX_BLOB} bytes`);
  }
  if (typeof deviceName !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(deviceName) || deviceName === 'vmstate') {
    throw new UsageError('vma.device-name', `Cannot use VMA device name "${String(deviceName)}": expected letters, digits, ".", "_" or "-" (e.g. drive-virtio0), not "vmstate"`);
  }
  if (typeof seed !== 'string') {
    throw new UsageError('vma.seed', `Cannot use VMA seed "${String(seed)}": expected a string`);
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new UsageError('vma.epoch', `Cannot use VMA time ${epoch}: expected whole seconds since 1970`);
  }
  if (image.size <= 0) {
    throw new UsageError('vma.empty', 'Cannot write an empty disk into a VMA archive: Proxmox rejects devices of size 0');
  }
  if (Math.ceil(image.size / VMA_CLUSTER_SIZE) > 2 ** 32) {
    throw new UsageError('vma.too-large', `Cannot write a ${image.size}-byte disk into a VMA archive: cluster numbers are 32 bits (256 TiB at most)`);
  }
  return { config, deviceName, uuid: vmaUuid(seed), ctime: epoch };
}
