/**
 * On-disk structures declared once as offset tables. Each field has an explicit offset
 * and an endianness-explicit type, so a reviewer can check it against the spec table;
 * encode and decode are derived from the same declaration.
 */
import { ImageError } from './errors.js';

export type IntType = 'u8' | 'u16le' | 'u32le' | 'u64le' | 'u16be' | 'u32be' | 'u64be';
export type FieldType = IntType | { readonly bytes: number };
export type FieldTable = Readonly<Record<string, readonly [offset: number, type: FieldType]>>;

type ValueOf<T extends FieldType> = T extends IntType ? number : Uint8Array;
export type StructValues<F extends FieldTable> = { [K in keyof F]: ValueOf<F[K][1]> };

const WIDTH: Record<IntType, number> = { u8: 1, u16le: 2, u32le: 4, u64le: 8, u16be: 2, u32be: 4, u64be: 8 };

function widthOf(type: FieldType): number {
  return typeof type === 'string' ? WIDTH[type] : type.bytes;
}

export function writeInt(view: DataView, at: number, type: IntType, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ImageError('struct.value', `Internal error: cannot encode ${value} as ${type}`);
  }
  switch (type) {
    case 'u8': view.setUint8(at, value); return;
    case 'u16le': view.setUint16(at, value, true); return;
    case 'u16be': view.setUint16(at, value, false); return;
    case 'u32le': view.setUint32(at, value, true); return;
    case 'u32be': view.setUint32(at, value, false); return;
    case 'u64le': view.setBigUint64(at, BigInt(value), true); return;
    case 'u64be': view.setBigUint64(at, BigInt(value), false); return;
  }
}

export function readInt(view: DataView, at: number, type: IntType): number {
  switch (type) {
    case 'u8': return view.getUint8(at);
    case 'u16le': return view.getUint16(at, true);
    case 'u16be': return view.getUint16(at, false);
    case 'u32le': return view.getUint32(at, true);
    case 'u32be': return view.getUint32(at, false);
    case 'u64le': return Number(view.getBigUint64(at, true));
    case 'u64be': return Number(view.getBigUint64(at, false));
  }
}

export interface Struct<F extends FieldTable> {
  readonly size: number;
  readonly fields: F;
  /** Writes the given fields into `into` at `at` (other bytes untouched) and returns `into`. */
  encode(values: Partial<StructValues<F>>, into?: Uint8Array, at?: number): Uint8Array;
  decode(from: Uint8Array, at?: number): StructValues<F>;
  /** Byte offset of a field inside the structure. */
  offsetOf(name: keyof F): number;
}

export function defineStruct<const F extends FieldTable>(name: string, size: number, fields: F): Struct<F> {
  for (const [field, [offset, type]] of Object.entries(fields)) {
    if (offset + widthOf(type) > size) {
      throw new Error(`${name}.${field} ends at ${offset + widthOf(type)}, past the structure size ${size}`);
    }
  }
  return {
    size,
    fields,
    offsetOf: (field) => fields[field as string]![0],
    encode(values, into = new Uint8Array(size), at = 0) {
      const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
      for (const key of Object.keys(values)) {
        const spec = fields[key];
        const value = (values as Record<string, unknown>)[key];
        if (spec === undefined || value === undefined) continue;
        const [offset, type] = spec;
        if (typeof type === 'string') {
          writeInt(view, at + offset, type, value as number);
        } else {
          const bytes = value as Uint8Array;
          if (bytes.length > type.bytes) {
            throw new ImageError('struct.value', `Internal error: ${name}.${key} holds ${type.bytes} bytes, got ${bytes.length}`);
          }
          into.set(bytes, at + offset);
        }
      }
      return into;
    },
    decode(from, at = 0) {
      const view = new DataView(from.buffer, from.byteOffset, from.byteLength);
      const out: Record<string, number | Uint8Array> = {};
      for (const [key, [offset, type]] of Object.entries(fields)) {
        out[key] = typeof type === 'string'
          ? readInt(view, at + offset, type)
          : from.slice(at + offset, at + offset + type.bytes);
      }
      return out as StructValues<F>;
    },
  };
}

export function asciiBytes(text: string, length: number, pad = 0): Uint8Array {
  const out = new Uint8Array(length).fill(pad);
  for (let i = 0; i < text.length && i < length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function ceilDiv(value: number, divisor: number): number {
  return Math.ceil(value / divisor);
}
