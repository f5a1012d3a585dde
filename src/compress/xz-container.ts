/**
 * The .xz container (the xz file format, version 1.0.4): stream header and footer, block
 * headers for a single LZMA2 filter, blocks and the index. The LZMA2 data inside the blocks
 * comes from elsewhere (lzma2.ts); this file only frames it. Every block carries both its
 * sizes in its header, as multi-threaded `xz` writes them, and a CRC32 check: the check
 * the kernel's xz decoder requires (squashfs, initrds) and one every xz reader verifies.
 */
import { crc32 } from 'node:zlib';

const STREAM_MAGIC = Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00);
const FOOTER_MAGIC = Uint8Array.of(0x59, 0x5a);
const CHECK_CRC32 = 0x01;
const CHECK_SIZE = 4;
const FILTER_LZMA2 = 0x21;
/** The largest dictionary an LZMA2 properties byte can name (code 40). */
const LARGEST_DICTIONARY = 0xffffffff;

/** A block's sizes, as the index records them. */
export interface XzBlockRecord {
  /** Block header + compressed data + check, without the padding. */
  readonly unpaddedSize: number;
  readonly uncompressedSize: number;
}

/** Variable-length integer: 7 bits per byte, least significant first. */
function vli(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

function littleEndian32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function padTo4(bytes: number[]): void {
  while (bytes.length % 4 !== 0) bytes.push(0);
}

/** The LZMA2 properties byte: the smallest dictionary size code of at least `dictionarySize`. */
export function lzma2DictionaryProperty(dictionarySize: number): number {
  if (!Number.isInteger(dictionarySize) || dictionarySize < 1 || dictionarySize > LARGEST_DICTIONARY) {
    throw new RangeError(`LZMA2 dictionary size ${dictionarySize} is outside 1 to ${LARGEST_DICTIONARY}`);
  }
  for (let code = 0; code < 40; code++) {
    if ((2 | (code & 1)) * 2 ** (Math.floor(code / 2) + 11) >= dictionarySize) return code;
  }
  return 40;
}

/** The size an LZMA2 properties byte names. */
export function lzma2DictionarySize(property: number): number {
  return property >= 40 ? LARGEST_DICTIONARY : (2 | (property & 1)) * 2 ** (Math.floor(property / 2) + 11);
}

const STREAM_FLAGS = [0x00, CHECK_CRC32];

export function xzStreamHeader(): Uint8Array {
  return Uint8Array.from([...STREAM_MAGIC, ...STREAM_FLAGS, ...littleEndian32(crc32(Uint8Array.from(STREAM_FLAGS)))]);
}

/** The index of `records` followed by the stream footer: everything after the last block. */
export function xzStreamEnd(records: readonly XzBlockRecord[]): Uint8Array {
  const index = [0x00, ...vli(records.length)];
  for (const record of records) index.push(...vli(record.unpaddedSize), ...vli(record.uncompressedSize));
  padTo4(index);
  index.push(...littleEndian32(crc32(Uint8Array.from(index))));
  const backward = [...littleEndian32(index.length / 4 - 1), ...STREAM_FLAGS];
  return Uint8Array.from([...index, ...littleEndian32(crc32(Uint8Array.from(backward))), ...backward, ...FOOTER_MAGIC]);
}

/**
 * One block around raw LZMA2 data (whole, or in pieces copied once into the block):
 * header (both sizes, the dictionary the decoder must allocate), the data, padding, and
 * the CRC32 of `plain`.
 */
export function xzBlock(lzma2: Uint8Array | readonly Uint8Array[], plain: Uint8Array, dictionarySize: number): { bytes: Uint8Array; record: XzBlockRecord } {
  const pieces = lzma2 instanceof Uint8Array ? [lzma2] : lzma2;
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const header = [0x00, 0xc0, ...vli(length), ...vli(plain.length), FILTER_LZMA2, 1, lzma2DictionaryProperty(dictionarySize)];
  while ((header.length + 4) % 4 !== 0) header.push(0);
  header[0] = (header.length + 4) / 4 - 1; // the header's size with its CRC32, in 4-byte units, minus one
  header.push(...littleEndian32(crc32(Uint8Array.from(header))));
  const padding = (4 - (length % 4)) % 4;
  const bytes = new Uint8Array(header.length + length + padding + CHECK_SIZE);
  bytes.set(header, 0);
  let at = header.length;
  for (const piece of pieces) {
    bytes.set(piece, at);
    at += piece.length;
  }
  new DataView(bytes.buffer).setUint32(header.length + length + padding, crc32(plain), true);
  return { bytes, record: { unpaddedSize: header.length + length + CHECK_SIZE, uncompressedSize: plain.length } };
}

/** A whole single-block stream, as mksquashfs writes each xz-compressed squashfs block. */
export function xzSingleBlockStream(lzma2: Uint8Array, plain: Uint8Array, dictionarySize: number): Uint8Array {
  const { bytes, record } = xzBlock(lzma2, plain, dictionarySize);
  const head = xzStreamHeader();
  const end = xzStreamEnd([record]);
  const stream = new Uint8Array(head.length + bytes.length + end.length);
  stream.set(head, 0);
  stream.set(bytes, head.length);
  stream.set(end, head.length + bytes.length);
  return stream;
}
