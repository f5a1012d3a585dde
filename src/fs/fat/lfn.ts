/**
 * VFAT long-file-name entries (Microsoft fatgen103 §7; format-specs §9.3). A long name
 * is UTF-16, 13 code units per 32-byte entry; the entries precede the short entry they
 * belong to, last part first, and each carries a checksum of that short name.
 */
import { defineStruct } from '../../core/struct.js';
import { ATTR_LONG_NAME, DIR_ENTRY_SIZE } from './dir-entry.js';

export const LFN_ENTRY = defineStruct('FatLfnEntry', 32, {
  /** 1-based part number; the part stored first (the last of the name) has LFN_LAST set. */
  order: [0, 'u8'],
  name1: [1, { bytes: 10 }],
  attributes: [11, 'u8'],
  type: [12, 'u8'],
  checksum: [13, 'u8'],
  name2: [14, { bytes: 12 }],
  firstClusterLow: [26, 'u16le'],
  name3: [28, { bytes: 4 }],
});

export const LFN_LAST = 0x40;
export const LFN_CHARS_PER_ENTRY = 13;
/** The longest name VFAT stores, in UTF-16 code units. */
export const LFN_MAX_UNITS = 255;

/** Checksum of the 11-byte short name: rotate right by one bit, then add the byte. */
export function shortNameChecksum(name11: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + name11[i]!) & 0xff;
  return sum;
}

export function lfnEntryCount(units: number): number {
  return Math.ceil(units / LFN_CHARS_PER_ENTRY);
}

/**
 * Writes the long-name entries for `name` (UTF-16 code units) at `at`, in on-disk order.
 * After the name comes one 0x0000 terminator, then 0xFFFF padding, unless the name fills
 * its last entry exactly. Returns the number of bytes written.
 */
export function encodeLfnEntries(name: Uint16Array, checksum: number, into: Uint8Array, at: number): number {
  const count = lfnEntryCount(name.length);
  const padded = new Uint16Array(count * LFN_CHARS_PER_ENTRY).fill(0xffff);
  padded.set(name);
  if (name.length < padded.length) padded[name.length] = 0;
  const bytes = (from: number, units: number): Uint8Array => {
    const out = new Uint8Array(units * 2);
    const view = new DataView(out.buffer);
    for (let i = 0; i < units; i++) view.setUint16(i * 2, padded[from + i]!, true);
    return out;
  };
  for (let k = 0; k < count; k++) {
    const part = count - k; // on disk the last part comes first
    const from = (part - 1) * LFN_CHARS_PER_ENTRY;
    LFN_ENTRY.encode({
      order: part | (k === 0 ? LFN_LAST : 0),
      name1: bytes(from, 5),
      attributes: ATTR_LONG_NAME,
      type: 0,
      checksum,
      name2: bytes(from + 5, 6),
      firstClusterLow: 0,
      name3: bytes(from + 11, 2),
    }, into, at + k * DIR_ENTRY_SIZE);
  }
  return count * DIR_ENTRY_SIZE;
}
