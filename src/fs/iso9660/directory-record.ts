/** A directory record (ECMA-119 9.1): 33 fixed bytes, the identifier, padding, then System Use bytes. */
import { putBoth16, putBoth32 } from './both-endian.js';
import { recordDate } from './iso-date.js';

export const RECORD_FIXED = 33;
/** A record's length is one byte. */
export const RECORD_MAX = 255;
export const FLAG_DIRECTORY = 0x02;
/** Set on every extent of a multi-extent file but the last (ECMA-119 9.1.6 bit 7). */
export const FLAG_NOT_FINAL = 0x80;

/** Identifiers of "." and ".." (ECMA-119 6.8.2.2). */
export const SELF_ID = Uint8Array.of(0);
export const PARENT_ID = Uint8Array.of(1);

export interface RecordFields {
  readonly extent: number;
  readonly size: number;
  readonly mtime: number;
  readonly flags: number;
  readonly identifier: Uint8Array;
  readonly systemUse?: Uint8Array;
}

/** Bytes before the System Use area: the identifier is padded to an even record offset. */
export function recordBaseLength(identifierLength: number): number {
  return RECORD_FIXED + identifierLength + (identifierLength % 2 === 0 ? 1 : 0);
}

export function encodeRecord(fields: RecordFields): Uint8Array {
  const base = recordBaseLength(fields.identifier.length);
  const su = fields.systemUse ?? new Uint8Array(0);
  const length = base + su.length + ((base + su.length) % 2);
  if (length > RECORD_MAX) throw new Error(`directory record of ${length} bytes`);
  const out = new Uint8Array(length);
  out[0] = length;
  putBoth32(out, 2, fields.extent);
  putBoth32(out, 10, fields.size);
  out.set(recordDate(fields.mtime), 18);
  out[25] = fields.flags;
  putBoth16(out, 28, 1); // volume sequence number
  out[32] = fields.identifier.length;
  out.set(fields.identifier, 33);
  out.set(su, base);
  return out;
}
