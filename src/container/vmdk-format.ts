/**
 * VMDK hosted sparse extent structures (format-specs §4; VMware "Virtual Disk Format 5.0";
 * checked against qemu-img 7.2 output). All integers are little-endian, sizes in 512-byte
 * sectors.
 */
import { UsageError } from '../core/errors.js';
import { deriveU32 } from '../core/reproducible.js';
import { defineStruct } from '../core/struct.js';

export const SECTOR = 512;
export const VMDK_MAGIC = 0x564d444b; // "KDMV" on disk
/** 128 sectors = 64 KiB grains, what qemu and VMware use. */
export const GRAIN_SECTORS = 128;
export const GRAIN_BYTES = GRAIN_SECTORS * SECTOR;
export const GTES_PER_GT = 512;
/** One grain table: 512 four-byte entries = 4 sectors. */
export const GT_SECTORS = (GTES_PER_GT * 4) / SECTOR;
/** qemu reserves 20 sectors for the embedded descriptor. */
export const DESCRIPTOR_SECTORS = 20;
export const GD_AT_END = 2n ** 64n - 1n;

/** bit 0: valid newline test; bit 1: redundant grain directory; bit 16: compressed grains; bit 17: markers. */
export const FLAG_NEWLINE_TEST = 1 << 0;
export const FLAG_REDUNDANT_GD = 1 << 1;
export const FLAG_COMPRESSED = 1 << 16;
export const FLAG_MARKERS = 1 << 17;

export const COMPRESSION_NONE = 0;
export const COMPRESSION_DEFLATE = 1;

export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;

/** The sparse extent header (sector 0; also the footer of streamOptimized files). */
export const sparseExtentHeader = defineStruct('VMDK sparse extent header', SECTOR, {
  magic: [0, 'u32le'],
  version: [4, 'u32le'],
  flags: [8, 'u32le'],
  capacity: [12, 'u64le'],
  grainSize: [20, 'u64le'],
  descriptorOffset: [28, 'u64le'],
  descriptorSize: [36, 'u64le'],
  numGTEsPerGT: [44, 'u32le'],
  rgdOffset: [48, 'u64le'],
  /** 0xFFFFFFFFFFFFFFFF (GD_AT_END) in a streamOptimized header: the footer has it. */
  gdOffset: [56, { bytes: 8 }],
  overHead: [64, 'u64le'],
  uncleanShutdown: [72, 'u8'],
  /** '\n', ' ', '\r', '\n': lets readers detect newline-mangling transfers. */
  newlineTest: [73, { bytes: 4 }],
  compressAlgorithm: [77, { bytes: 2 }],
});

/** A streamOptimized marker: {u64 value, u32 size, u32 type}; size 0 means metadata of `type`. */
export const marker = defineStruct('VMDK marker', 16, {
  value: [0, 'u64le'],
  size: [8, 'u32le'],
  type: [12, 'u32le'],
});

export type VmdkSubformat = 'monolithicSparse' | 'streamOptimized';
export type VmdkAdapterType = 'ide' | 'lsilogic' | 'buslogic' | 'legacyESX';
const ADAPTERS: readonly VmdkAdapterType[] = ['ide', 'lsilogic', 'buslogic', 'legacyESX'];

export interface HeaderValues {
  readonly version: number;
  readonly flags: number;
  readonly capacity: number;
  readonly rgdOffset: number;
  /** A sector number, or GD_AT_END. */
  readonly gdOffset: number | bigint;
  readonly overHead: number;
  readonly compress: boolean;
}

export function encodeHeader(values: HeaderValues): Uint8Array {
  const out = new Uint8Array(SECTOR);
  const gd = new Uint8Array(8);
  new DataView(gd.buffer).setBigUint64(0, BigInt(values.gdOffset), true);
  sparseExtentHeader.encode({
    magic: VMDK_MAGIC,
    version: values.version,
    flags: values.flags,
    capacity: values.capacity,
    grainSize: GRAIN_SECTORS,
    descriptorOffset: 1,
    descriptorSize: DESCRIPTOR_SECTORS,
    numGTEsPerGT: GTES_PER_GT,
    rgdOffset: values.rgdOffset,
    gdOffset: gd,
    overHead: values.overHead,
    uncleanShutdown: 0,
    newlineTest: Uint8Array.of(0x0a, 0x20, 0x0d, 0x0a),
    compressAlgorithm: Uint8Array.of(values.compress ? COMPRESSION_DEFLATE : COMPRESSION_NONE, 0),
  }, out);
  return out;
}

/** A metadata marker sector (GT, GD, footer) or the end-of-stream sector (all zeros). */
export function markerSector(type: number, sectors: number): Uint8Array {
  const out = new Uint8Array(SECTOR);
  if (type !== MARKER_EOS) marker.encode({ value: sectors, size: 0, type }, out);
  return out;
}

/** Counts derived from the capacity: grains, grain tables and grain directory sectors. */
export interface Geometry {
  readonly capacity: number;
  readonly grains: number;
  readonly tables: number;
  readonly gdSectors: number;
}

export function geometry(imageSize: number): Geometry {
  const capacity = Math.ceil(imageSize / SECTOR);
  const grains = Math.ceil(capacity / GRAIN_SECTORS);
  const tables = Math.ceil(grains / GTES_PER_GT);
  const gdSectors = Math.ceil((tables * 4) / SECTOR);
  return { capacity, grains, tables, gdSectors };
}

export interface DescriptorOptions {
  readonly subformat: VmdkSubformat;
  readonly seed: string;
  readonly adapterType?: VmdkAdapterType;
  readonly hwVersion?: string;
  readonly fileName: string;
}

/** The content ID: derived from the seed; never ffffffff ("no parent"). */
export function contentId(seed: string): number {
  const cid = deriveU32(seed, 'vmdk.cid');
  return cid === 0xffffffff ? 0xfffffffe : cid;
}

/**
 * The embedded descriptor, line for line as qemu-img 7.2 writes it. The geometry is
 * qemu's: 16 heads for IDE, 255 for every other adapter, 63 sectors, and the cylinders the
 * capacity divided by heads × 63 (not capped at 65535, unlike what some notes say).
 */
export function descriptorText(capacity: number, options: DescriptorOptions): string {
  const adapter = options.adapterType ?? 'ide';
  const heads = adapter === 'ide' ? 16 : 255;
  const cylinders = Math.floor(capacity / (heads * 63));
  return [
    '# Disk DescriptorFile',
    'version=1',
    `CID=${contentId(options.seed).toString(16)}`, // qemu prints it with %x, unpadded
    'parentCID=ffffffff',
    `createType="${options.subformat}"`,
    '',
    '# Extent description',
    `RW ${capacity} SPARSE "${options.fileName}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    `ddb.virtualHWVersion = "${options.hwVersion ?? '4'}"`,
    `ddb.geometry.cylinders = "${cylinders}"`,
    `ddb.geometry.heads = "${heads}"`,
    'ddb.geometry.sectors = "63"',
    `ddb.adapterType = "${adapter}"`,
    'ddb.toolsVersion = "2147483647"',
    '',
  ].join('\n');
}

/** The descriptor padded with NULs to its 20 sectors. */
export function descriptorSectors(capacity: number, options: DescriptorOptions): Uint8Array {
  const text = new TextEncoder().encode(descriptorText(capacity, options));
  if (text.length > DESCRIPTOR_SECTORS * SECTOR) {
    throw new UsageError('vmdk.descriptor', `Cannot write a ${text.length}-byte VMDK descriptor: at most ${DESCRIPTOR_SECTORS * SECTOR} bytes fit`, {
      hint: 'use a shorter file name',
    });
  }
  const out = new Uint8Array(DESCRIPTOR_SECTORS * SECTOR);
  out.set(text);
  return out;
}

export function validateDescriptorOptions(options: DescriptorOptions): void {
  const known = new Set(['subformat', 'seed', 'adapterType', 'hwVersion', 'fileName', 'cache']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new UsageError('vmdk.unknown-option', `Cannot use VMDK option "${key}": expected ${[...known].join(', ')}`);
  }
  if (options.subformat !== 'monolithicSparse' && options.subformat !== 'streamOptimized') {
    throw new UsageError('vmdk.subformat', `Cannot write the VMDK subformat "${String(options.subformat)}": expected monolithicSparse or streamOptimized`);
  }
  if (typeof options.seed !== 'string' || options.seed === '') {
    throw new UsageError('vmdk.seed', 'Cannot write a VMDK without a seed: expected a non-empty string to derive its content ID from');
  }
  if (options.adapterType !== undefined && !ADAPTERS.includes(options.adapterType)) {
    throw new UsageError('vmdk.adapter', `Cannot use the VMDK adapter type "${String(options.adapterType)}": expected ${ADAPTERS.join(', ')}`);
  }
  if (options.hwVersion !== undefined && !/^[0-9]{1,3}$/.test(options.hwVersion)) {
    throw new UsageError('vmdk.hw-version', `Cannot use the VMDK hardware version "${String(options.hwVersion)}": expected a number such as 4`);
  }
  if (!/^[^"\n\r\0/]+$/.test(options.fileName)) {
    throw new UsageError('vmdk.file-name', `Cannot name a VMDK extent "${options.fileName}": expected a file name without quotes, slashes or line breaks`);
  }
}
