/**
 * GUIDs as stored by GPT and VHDX: the first three fields little-endian, the last
 * eight bytes as written (format-specs §0.2).
 */
import { ImageError } from './errors.js';

const GUID_TEXT = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

/** Text GUID to its 16-byte mixed-endian on-disk form. */
export function guidToBytes(text: string): Uint8Array {
  const m = GUID_TEXT.exec(text);
  if (m === null) {
    throw new ImageError('guid.malformed', `Cannot parse GUID "${text}": expected 8-4-4-4-12 hex digits`);
  }
  const hex = (s: string): number[] => s.match(/../g)!.map((b) => parseInt(b, 16));
  return Uint8Array.from([
    ...hex(m[1]!).reverse(),
    ...hex(m[2]!).reverse(),
    ...hex(m[3]!).reverse(),
    ...hex(m[4]!),
    ...hex(m[5]!),
  ]);
}

/** 16-byte mixed-endian GUID back to upper-case text. */
export function guidFromBytes(bytes: Uint8Array): string {
  const h = (from: number, to: number, reverse: boolean): string => {
    const part = Array.from(bytes.subarray(from, to));
    if (reverse) part.reverse();
    return part.map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return [h(0, 4, true), h(4, 6, true), h(6, 8, true), h(8, 10, false), h(10, 16, false)]
    .join('-')
    .toUpperCase();
}

/** Text UUID to its 16 bytes in plain (big-endian, RFC 4122) order, as ext4 stores it. */
export function uuidToBytes(text: string): Uint8Array {
  if (!GUID_TEXT.test(text)) {
    throw new ImageError('uuid.malformed', `Cannot parse UUID "${text}": expected 8-4-4-4-12 hex digits`);
  }
  return Uint8Array.from(text.replace(/-/g, '').match(/../g)!.map((b) => parseInt(b, 16)));
}

export function uuidFromBytes(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
