/**
 * VHDX on-disk structures ([MS-VHDX] v2; format-specs §3; docs/formats/vhdx.md).
 * All integers are little-endian; GUIDs are stored mixed-endian (format-specs §0.2);
 * checksums are standard CRC-32C with the checksum field taken as zero.
 */
import { crc32c } from '../core/checksum.js';
import { guidToBytes } from '../core/guid.js';
import { defineStruct } from '../core/struct.js';

export const KiB = 1024;
export const MiB = 1 << 20;
export const TiB = 2 ** 40;

/** Everything in the file is placed at whole MiB. */
export const VHDX_ALIGNMENT = MiB;
export const FILE_IDENTIFIER_OFFSET = 0;
export const HEADER1_OFFSET = 64 * KiB;
export const HEADER2_OFFSET = 128 * KiB;
export const REGION_TABLE1_OFFSET = 192 * KiB;
export const REGION_TABLE2_OFFSET = 256 * KiB;
export const HEADER_SIZE = 4 * KiB;
export const REGION_TABLE_SIZE = 64 * KiB;
/** The metadata table fills the first 64 KiB of the metadata region; items follow it. */
export const METADATA_TABLE_SIZE = 64 * KiB;
export const METADATA_REGION_LENGTH = MiB;

export const LOGICAL_SECTOR_SIZE = 512;
export const MIN_BLOCK_SIZE = MiB;
export const MAX_BLOCK_SIZE = 256 * MiB;
export const MAX_VIRTUAL_SIZE = 64 * TiB;
/** Bits one sector bitmap block holds: it describes 2^23 logical sectors (a "chunk"). */
export const SECTORS_PER_BITMAP_BLOCK = 2 ** 23;

export const FILE_SIGNATURE = 'vhdxfile';
export const HEADER_SIGNATURE = 'head';
export const REGION_TABLE_SIGNATURE = 'regi';
export const METADATA_SIGNATURE = 'metadata';
export const VHDX_VERSION = 1;
export const LOG_VERSION = 0;

export const BAT_REGION_GUID = '2DC27766-F623-4200-9D64-115E9BFD4A08';
export const METADATA_REGION_GUID = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
export const FILE_PARAMETERS_GUID = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B';
export const VIRTUAL_DISK_SIZE_GUID = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
export const VIRTUAL_DISK_ID_GUID = 'BECA12AB-B2E6-4523-93EF-C309E000C746';
export const LOGICAL_SECTOR_SIZE_GUID = '8141BF1D-A96F-4709-BA47-F233A8FAAB5F';
export const PHYSICAL_SECTOR_SIZE_GUID = 'CDA348C7-445D-4471-9CC9-E9885251C556';

/** Payload BAT entry states ([MS-VHDX] 2.5.1.1). Sector bitmap entries stay 0 (not present). */
export const PAYLOAD_BLOCK_NOT_PRESENT = 0;
/** Reads MUST return zeros (NOT_PRESENT only promises "undefined" contents). */
export const PAYLOAD_BLOCK_ZERO = 2;
export const PAYLOAD_BLOCK_FULLY_PRESENT = 6;

/** Region table entry flag: an implementation that does not know the region must refuse the file. */
export const REGION_REQUIRED = 1;
/** Metadata entry flags. */
export const METADATA_IS_USER = 1;
export const METADATA_IS_VIRTUAL_DISK = 2;
export const METADATA_IS_REQUIRED = 4;

/** At offset 0: signature and a UTF-16LE creator string (informational only). */
export const fileIdentifier = defineStruct('vhdx file identifier', 8 + 512, {
  signature: [0, { bytes: 8 }],
  creator: [8, { bytes: 512 }],
});

/** The header, at 64 KiB and 128 KiB; the valid one with the higher sequence number is current. */
export const vhdxHeader = defineStruct('vhdx header', HEADER_SIZE, {
  signature: [0, { bytes: 4 }],
  /** CRC-32C over the 4 KiB header. */
  checksum: [4, 'u32le'],
  sequenceNumber: [8, 'u64le'],
  fileWriteGuid: [16, { bytes: 16 }],
  dataWriteGuid: [32, { bytes: 16 }],
  /** Zero: the log is empty and must not be replayed. */
  logGuid: [48, { bytes: 16 }],
  logVersion: [64, 'u16le'],
  version: [66, 'u16le'],
  logLength: [68, 'u32le'],
  logOffset: [72, 'u64le'],
});

/** The region table header, at 192 KiB and 256 KiB (identical copies); entries follow at 16. */
export const regionTableHeader = defineStruct('vhdx region table header', 16, {
  signature: [0, { bytes: 4 }],
  /** CRC-32C over the whole 64 KiB table. */
  checksum: [4, 'u32le'],
  entryCount: [8, 'u32le'],
});

export const regionTableEntry = defineStruct('vhdx region table entry', 32, {
  guid: [0, { bytes: 16 }],
  fileOffset: [16, 'u64le'],
  length: [24, 'u32le'],
  required: [28, 'u32le'],
});

/** The metadata table header at the start of the metadata region; entries follow at 32. */
export const metadataTableHeader = defineStruct('vhdx metadata table header', 32, {
  signature: [0, { bytes: 8 }],
  entryCount: [10, 'u16le'],
});

export const metadataTableEntry = defineStruct('vhdx metadata table entry', 32, {
  itemId: [0, { bytes: 16 }],
  /** Relative to the metadata region, at least 64 KiB. */
  offset: [16, 'u32le'],
  length: [20, 'u32le'],
  flags: [24, 'u32le'],
});

export const fileParameters = defineStruct('vhdx file parameters', 8, {
  blockSize: [0, 'u32le'],
  /** Bit 0 LeaveBlocksAllocated (fixed disks), bit 1 HasParent (differencing disks). */
  flags: [4, 'u32le'],
});

/**
 * The block size qemu-img 7.2 picks when none is given (checked with qemu-img create at
 * each boundary): 8 MiB up to 1 GiB, 16 MiB up to 100 GiB, 32 MiB up to 32 TiB, then 64 MiB.
 */
export function defaultBlockSize(virtualSize: number): number {
  if (virtualSize > 32 * TiB) return 64 * MiB;
  if (virtualSize > 100 * 2 ** 30) return 32 * MiB;
  if (virtualSize > 2 ** 30) return 16 * MiB;
  return 8 * MiB;
}

/** Payload blocks per sector bitmap block. */
export function chunkRatio(blockSize: number, logicalSectorSize = LOGICAL_SECTOR_SIZE): number {
  return (SECTORS_PER_BITMAP_BLOCK * logicalSectorSize) / blockSize;
}

/** BAT entries of a dynamic disk: the payload entries with a sector bitmap entry after every chunk. */
export function batEntryCount(dataBlocks: number, ratio: number): number {
  return dataBlocks === 0 ? 0 : dataBlocks + Math.floor((dataBlocks - 1) / ratio);
}

/** BAT index of payload block `block`: the interleaved sector bitmap entries come before it. */
export function payloadBatIndex(block: number, ratio: number): number {
  return block + Math.floor(block / ratio);
}

/** Writes `state` and `fileOffset` (a multiple of 1 MiB, or 0) as BAT entry `index` of `view`. */
export function setBatEntry(view: DataView, index: number, state: number, fileOffset: number): void {
  const low = (fileOffset % 2 ** 32) + state;
  view.setUint32(index * 8, low >>> 0, true);
  view.setUint32(index * 8 + 4, Math.floor(fileOffset / 2 ** 32), true);
}

/** Fills in the CRC-32C of a structure whose checksum field is at byte 4. */
export function sealChecksum(structure: Uint8Array): Uint8Array {
  new DataView(structure.buffer, structure.byteOffset, structure.byteLength).setUint32(4, 0, true);
  new DataView(structure.buffer, structure.byteOffset, structure.byteLength).setUint32(4, crc32c(structure), true);
  return structure;
}

export function guid(text: string): Uint8Array {
  return guidToBytes(text);
}

export function utf16le(text: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < text.length && 2 * i + 1 < length; i++) view.setUint16(2 * i, text.charCodeAt(i), true);
  return out;
}
