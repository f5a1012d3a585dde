/**
 * GUID partition table (format-specs §7.2): protective MBR, primary header at LBA 1 and
 * 128 entries at LBA 2-33, their backups at the end of the disk.
 */
import { bytesSegment, type Segment } from '../core/block-image.js';
import { crc32 } from '../core/checksum.js';
import { ImageError } from '../core/errors.js';
import { guidToBytes } from '../core/guid.js';
import { defineStruct } from '../core/struct.js';
import { protectiveMbr } from './mbr.js';
import { SECTOR } from './types.js';

export const GPT_ENTRIES = 128;
export const GPT_ENTRY_SIZE = 128;
const ENTRY_SECTORS = (GPT_ENTRIES * GPT_ENTRY_SIZE) / SECTOR;
/** First usable LBA with a 128-entry array. */
export const GPT_FIRST_USABLE = 2 + ENTRY_SECTORS;
/** Sectors the backup header and entries take at the end of the disk. */
export const GPT_BACKUP_SECTORS = 1 + ENTRY_SECTORS;

export const gptHeaderStruct = defineStruct('gpt.header', 92, {
  signature: [0, { bytes: 8 }],
  revision: [8, 'u32le'],
  headerSize: [12, 'u32le'],
  headerCrc: [16, 'u32le'],
  reserved: [20, 'u32le'],
  myLba: [24, 'u64le'],
  alternateLba: [32, 'u64le'],
  firstUsableLba: [40, 'u64le'],
  lastUsableLba: [48, 'u64le'],
  diskGuid: [56, { bytes: 16 }],
  entriesLba: [72, 'u64le'],
  entryCount: [80, 'u32le'],
  entrySize: [84, 'u32le'],
  entriesCrc: [88, 'u32le'],
});

export const gptEntryStruct = defineStruct('gpt.entry', GPT_ENTRY_SIZE, {
  typeGuid: [0, { bytes: 16 }],
  uniqueGuid: [16, { bytes: 16 }],
  firstLba: [32, 'u64le'],
  lastLba: [40, 'u64le'],
  attributes: [48, 'u64le'],
  name: [56, { bytes: 72 }],
});

export interface GptPartition {
  readonly name: string;
  readonly typeGuid: string;
  readonly guid: string;
  readonly firstLba: number;
  /** Inclusive. */
  readonly lastLba: number;
  readonly attributes?: number;
}

export interface GptOptions {
  readonly totalSectors: number;
  readonly diskGuid: string;
  readonly partitions: readonly GptPartition[];
  /** Boot code for the protective MBR (GRUB's boot.img on hybrid disks). */
  readonly bootCode?: Uint8Array;
}

/** A partition name as a GPT entry stores it: UTF-16LE, 36 code units at most. */
export function gptPartitionName(name: string): Uint8Array {
  if (name.length > 36) throw new ImageError('gpt.name-too-long', `Cannot name a GPT partition "${name}": at most 36 UTF-16 code units`);
  const out = new Uint8Array(72);
  for (let i = 0; i < name.length; i++) new DataView(out.buffer).setUint16(2 * i, name.charCodeAt(i), true);
  return out;
}

export interface GptHeaderFields {
  readonly myLba: number;
  readonly alternateLba: number;
  readonly entriesLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  /** 16 bytes as stored. */
  readonly diskGuid: Uint8Array;
  readonly entryCount: number;
  readonly entriesCrc: number;
}

/** One GPT header sector (revision 1.0, 128-byte entries) with its CRC filled in. */
export function encodeGptHeader(fields: GptHeaderFields): Uint8Array {
  const sector = new Uint8Array(SECTOR);
  gptHeaderStruct.encode({
    signature: new TextEncoder().encode('EFI PART'),
    revision: 0x00010000,
    headerSize: 92,
    ...fields,
    entrySize: GPT_ENTRY_SIZE,
  }, sector);
  gptHeaderStruct.encode({ headerCrc: crc32(sector.subarray(0, 92)) }, sector);
  return sector;
}

export function gptSegments(options: GptOptions): Segment[] {
  const n = options.totalSectors;
  const lastUsable = n - GPT_BACKUP_SECTORS - 1;
  const entries = new Uint8Array(GPT_ENTRIES * GPT_ENTRY_SIZE);
  const sorted = [...options.partitions].sort((a, b) => a.firstLba - b.firstLba);
  sorted.forEach((p, i) => {
    if (p.firstLba < GPT_FIRST_USABLE || p.lastLba > lastUsable || p.lastLba < p.firstLba) {
      throw new ImageError('gpt.partition-outside', `Cannot place partition "${p.name}" at LBA ${p.firstLba}-${p.lastLba}: usable LBAs are ${GPT_FIRST_USABLE}-${lastUsable}`);
    }
    const next = sorted[i + 1];
    if (next !== undefined && next.firstLba <= p.lastLba) {
      throw new ImageError('gpt.partition-overlap', `Cannot place partition "${next.name}" at LBA ${next.firstLba}: partition "${p.name}" ends at LBA ${p.lastLba}`);
    }
  });
  options.partitions.forEach((p, i) => {
    gptEntryStruct.encode({
      typeGuid: guidToBytes(p.typeGuid),
      uniqueGuid: guidToBytes(p.guid),
      firstLba: p.firstLba,
      lastLba: p.lastLba,
      attributes: p.attributes ?? 0,
      name: gptPartitionName(p.name),
    }, entries, i * GPT_ENTRY_SIZE);
  });
  const entriesCrc = crc32(entries);
  const diskGuid = guidToBytes(options.diskGuid);
  const header = (myLba: number, alternateLba: number, entriesLba: number): Uint8Array => encodeGptHeader({
    myLba, alternateLba, entriesLba, firstUsableLba: GPT_FIRST_USABLE, lastUsableLba: lastUsable, diskGuid, entryCount: GPT_ENTRIES, entriesCrc,
  });
  return [
    bytesSegment(0, protectiveMbr(n, options.bootCode)),
    bytesSegment(SECTOR, header(1, n - 1, 2)),
    bytesSegment(2 * SECTOR, entries),
    bytesSegment((n - GPT_BACKUP_SECTORS) * SECTOR, entries),
    bytesSegment((n - 1) * SECTOR, header(n - 1, 1, n - GPT_BACKUP_SECTORS)),
  ];
}
