/**
 * The 32-byte short (8.3) directory entry (fatgen103 §6; format-specs §9.3), and the
 * FAT date and time encoding. FAT times have no time zone; we store UTC.
 */
import { defineStruct } from '../../core/struct.js';

export const DIR_ENTRY = defineStruct('FatDirEntry', 32, {
  /** 8 name bytes then 3 extension bytes, space padded. */
  name: [0, { bytes: 11 }],
  attributes: [11, 'u8'],
  /** Windows NT case bits: CASE_LOWER_BASE, CASE_LOWER_EXT. */
  caseFlags: [12, 'u8'],
  /** Creation time refinement in 10 ms units, 0..199. */
  createTimeFine: [13, 'u8'],
  createTime: [14, 'u16le'],
  createDate: [16, 'u16le'],
  accessDate: [18, 'u16le'],
  firstClusterHigh: [20, 'u16le'],
  writeTime: [22, 'u16le'],
  writeDate: [24, 'u16le'],
  firstClusterLow: [26, 'u16le'],
  fileSize: [28, 'u32le'],
});

export const DIR_ENTRY_SIZE = 32;

export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
/** READ_ONLY | HIDDEN | SYSTEM | VOLUME_ID marks a long-name entry. */
export const ATTR_LONG_NAME = 0x0f;

export const CASE_LOWER_BASE = 0x08;
export const CASE_LOWER_EXT = 0x10;

/** 1980-01-01 00:00:00 UTC, the earliest FAT time. */
export const FAT_EPOCH_MIN = Date.UTC(1980, 0, 1) / 1000;
/** 2107-12-31 23:59:59 UTC, the latest FAT time (write times show 23:59:58). */
export const FAT_EPOCH_MAX = Date.UTC(2107, 11, 31, 23, 59, 59) / 1000;

export interface FatTimestamp {
  /** (year - 1980) << 9 | month << 5 | day */
  readonly date: number;
  /** hour << 11 | minute << 5 | seconds / 2 */
  readonly time: number;
  /** The odd second the two-second time field drops, in 10 ms units (0 or 100). */
  readonly fine: number;
}

/** Seconds since 1970 (UTC) to FAT fields, clamped to 1980..2107. */
export function fatTimestamp(seconds: number): FatTimestamp {
  const clamped = Math.min(FAT_EPOCH_MAX, Math.max(FAT_EPOCH_MIN, Math.floor(seconds)));
  const d = new Date(clamped * 1000);
  const second = d.getUTCSeconds();
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (second >> 1),
    fine: (second & 1) * 100,
  };
}

export interface ShortEntryInput {
  readonly name11: Uint8Array;
  readonly attributes: number;
  readonly caseFlags: number;
  readonly firstCluster: number;
  readonly size: number;
  readonly mtime: number;
}

export function encodeShortEntry(entry: ShortEntryInput, into: Uint8Array, at: number): void {
  const t = fatTimestamp(entry.mtime);
  DIR_ENTRY.encode({
    name: entry.name11,
    attributes: entry.attributes,
    caseFlags: entry.caseFlags,
    createTimeFine: t.fine,
    createTime: t.time,
    createDate: t.date,
    accessDate: t.date,
    firstClusterHigh: entry.firstCluster >>> 16,
    writeTime: t.time,
    writeDate: t.date,
    firstClusterLow: entry.firstCluster & 0xffff,
    fileSize: entry.size,
  }, into, at);
}
