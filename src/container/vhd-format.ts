/**
 * VHD ("vpc" in qemu) on-disk structures (Microsoft VHD specification 1.0; format-specs §2;
 * docs/formats/vhd.md). All integers are big-endian.
 */
import { defineStruct } from '../core/struct.js';

export const VHD_SECTOR = 512;
export const FOOTER_SIZE = 512;
export const DYNAMIC_HEADER_SIZE = 1024;
/** Dynamic disks: the dynamic header follows the footer copy at 0, the BAT follows it. */
export const DYNAMIC_HEADER_OFFSET = FOOTER_SIZE;
export const BAT_OFFSET = DYNAMIC_HEADER_OFFSET + DYNAMIC_HEADER_SIZE;
/** 2 MiB blocks, as qemu-img and Hyper-V write them. */
export const VHD_BLOCK_SIZE = 2 << 20;
/** One bit per 512-byte sector of a block, padded to whole sectors: 512 bytes for 2 MiB. */
export const BLOCK_BITMAP_SIZE = Math.ceil(VHD_BLOCK_SIZE / VHD_SECTOR / 8 / VHD_SECTOR) * VHD_SECTOR;
/** BAT entry of a block with no data in the file. */
export const BAT_UNALLOCATED = 0xffffffff;
/**
 * The largest virtual size qemu creates or opens (VHD_MAX_SECTORS = 0xff000000 sectors,
 * 2040 GiB); BAT entries are 32-bit sector numbers, so dynamic files cannot grow much past it.
 */
export const VHD_MAX_SIZE = 0xff000000 * VHD_SECTOR;

export const FOOTER_COOKIE = 'conectix';
export const DYNAMIC_COOKIE = 'cxsparse';
/** Bit 1 ("reserved") must always be set; bit 0 would mark a temporary disk. */
export const FEATURES_RESERVED = 0x00000002;
export const FORMAT_VERSION = 0x00010000;
export const DYNAMIC_HEADER_VERSION = 0x00010000;
export const NO_DATA_OFFSET = 0xffffffffffffffffn;
export const DISK_TYPE_FIXED = 2;
export const DISK_TYPE_DYNAMIC = 3;

/**
 * Creator fields (docs/formats/vhd.md, "Creator and geometry"): "qem2" is the creator
 * application qemu writes with force_size and trusts to mean "the size is current_size,
 * not C×H×S"; Hyper-V, Azure and libvhdi use current_size whatever the creator. The version
 * and host OS are those qemu-img 7.2 writes (5.3, "Wi2k").
 */
export const CREATOR_APPLICATION = 'qem2';
export const CREATOR_VERSION = 0x00050003;
export const CREATOR_HOST_OS = 'Wi2k';

/** VHD timestamps count seconds from 2000-01-01 00:00:00 UTC. */
export const VHD_EPOCH_UNIX = 946684800;

/** The hard disk footer: the last 512 bytes of every VHD (and a copy at 0 for dynamic ones). */
export const vhdFooter = defineStruct('vhd footer', FOOTER_SIZE, {
  cookie: [0, { bytes: 8 }],
  features: [8, 'u32be'],
  formatVersion: [12, 'u32be'],
  /** Offset of the dynamic header; all ones for fixed disks. */
  dataOffset: [16, { bytes: 8 }],
  timestamp: [24, 'u32be'],
  creatorApplication: [28, { bytes: 4 }],
  creatorVersion: [32, 'u32be'],
  creatorHostOs: [36, { bytes: 4 }],
  originalSize: [40, 'u64be'],
  currentSize: [48, 'u64be'],
  cylinders: [56, 'u16be'],
  heads: [58, 'u8'],
  sectorsPerTrack: [59, 'u8'],
  diskType: [60, 'u32be'],
  /** One's complement of the byte sum of the footer with this field zero. */
  checksum: [64, 'u32be'],
  uniqueId: [68, { bytes: 16 }],
  savedState: [84, 'u8'],
});

/** The dynamic disk header, at offset 512 of dynamic and differencing disks. */
export const vhdDynamicHeader = defineStruct('vhd dynamic header', DYNAMIC_HEADER_SIZE, {
  cookie: [0, { bytes: 8 }],
  /** Unused; all ones. */
  dataOffset: [8, { bytes: 8 }],
  tableOffset: [16, 'u64be'],
  headerVersion: [24, 'u32be'],
  maxTableEntries: [28, 'u32be'],
  blockSize: [32, 'u32be'],
  checksum: [36, 'u32be'],
  parentUniqueId: [40, { bytes: 16 }],
  parentTimestamp: [56, 'u32be'],
  parentUnicodeName: [64, { bytes: 512 }],
  /** Eight 24-byte parent locator entries (differencing disks only). */
  parentLocators: [576, { bytes: 192 }],
});

export interface Geometry {
  readonly cylinders: number;
  readonly heads: number;
  readonly sectorsPerTrack: number;
}

/**
 * CHS geometry for `totalSectors` by the algorithm of the VHD specification (appendix
 * "CHS calculation"); qemu's calculate_geometry gives the same values. C×H×S never exceeds
 * the sector count, so the geometry usually describes slightly less than the disk.
 */
export function chsGeometry(totalSectors: number): Geometry {
  const sectors = Math.min(totalSectors, 65535 * 16 * 255);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (sectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    heads = Math.max(4, Math.ceil(cylinderTimesHeads / 1024));
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}

/** One's complement of the byte sum of `data` (the checksum field must be zero in it). */
export function onesComplementChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return ~sum >>> 0;
}

/** VHD timestamp for a Unix time: seconds since 2000-01-01, clamped to the u32 range. */
export function vhdTimestamp(unixSeconds: number): number {
  return Math.min(0xffffffff, Math.max(0, Math.floor(unixSeconds) - VHD_EPOCH_UNIX));
}

export interface FooterFields {
  readonly diskType: typeof DISK_TYPE_FIXED | typeof DISK_TYPE_DYNAMIC;
  readonly size: number;
  readonly timestamp: number;
  readonly uniqueId: Uint8Array;
}

/** The 512-byte footer, checksum included. */
export function encodeFooter(fields: FooterFields): Uint8Array {
  const footer = new Uint8Array(FOOTER_SIZE);
  const dataOffset = new Uint8Array(8);
  new DataView(dataOffset.buffer).setBigUint64(0, fields.diskType === DISK_TYPE_FIXED ? NO_DATA_OFFSET : BigInt(DYNAMIC_HEADER_OFFSET), false);
  const geometry = chsGeometry(fields.size / VHD_SECTOR);
  vhdFooter.encode({
    cookie: ascii(FOOTER_COOKIE),
    features: FEATURES_RESERVED,
    formatVersion: FORMAT_VERSION,
    dataOffset,
    timestamp: fields.timestamp,
    creatorApplication: ascii(CREATOR_APPLICATION),
    creatorVersion: CREATOR_VERSION,
    creatorHostOs: ascii(CREATOR_HOST_OS),
    originalSize: fields.size,
    currentSize: fields.size,
    cylinders: geometry.cylinders,
    heads: geometry.heads,
    sectorsPerTrack: geometry.sectorsPerTrack,
    diskType: fields.diskType,
    checksum: 0,
    uniqueId: fields.uniqueId,
    savedState: 0,
  }, footer);
  vhdFooter.encode({ checksum: onesComplementChecksum(footer) }, footer);
  return footer;
}

/** The 1024-byte dynamic disk header for `maxTableEntries` 2 MiB blocks, checksum included. */
export function encodeDynamicHeader(maxTableEntries: number): Uint8Array {
  const header = new Uint8Array(DYNAMIC_HEADER_SIZE);
  vhdDynamicHeader.encode({
    cookie: ascii(DYNAMIC_COOKIE),
    dataOffset: new Uint8Array(8).fill(0xff),
    tableOffset: BAT_OFFSET,
    headerVersion: DYNAMIC_HEADER_VERSION,
    maxTableEntries,
    blockSize: VHD_BLOCK_SIZE,
    checksum: 0,
  }, header);
  vhdDynamicHeader.encode({ checksum: onesComplementChecksum(header) }, header);
  return header;
}

/** Bytes the BAT takes for `entries` blocks: 4 per entry, padded to whole sectors. */
export function batBytes(entries: number): number {
  return Math.ceil((entries * 4) / VHD_SECTOR) * VHD_SECTOR;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
