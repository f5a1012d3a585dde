/**
 * tar header blocks (POSIX ustar and GNU "oldgnu"; format-specs §14), as GNU tar 1.34 writes
 * them: octal numbers zero-padded and NUL-terminated, base-256 (first byte 0x80, then
 * big-endian) for values that do not fit, the checksum as six octal digits, NUL, space.
 */
import { ImageError } from '../core/errors.js';
import { defineStruct } from '../core/struct.js';

export const TAR_BLOCK = 512;

/** 'ustar': POSIX magic "ustar\0" "00"; 'gnu': GNU magic "ustar  \0" (needed for sparse members). */
export type TarFormat = 'ustar' | 'gnu';

export const TYPE_FILE = '0';
export const TYPE_HARD_LINK = '1';
export const TYPE_SYMLINK = '2';
export const TYPE_DIRECTORY = '5';
/** GNU: the next member's name, or its link target, too long for the header. */
const TYPE_GNU_LONG_NAME = 'L';
const TYPE_GNU_LONG_LINK = 'K';
/** Old GNU sparse file. */
export const TYPE_GNU_SPARSE = 'S';

/** The 512-byte header (fields shared by ustar and GNU; the GNU sparse fields below). */
export const tarHeader = defineStruct('tar header', TAR_BLOCK, {
  name: [0, { bytes: 100 }],
  mode: [100, { bytes: 8 }],
  uid: [108, { bytes: 8 }],
  gid: [116, { bytes: 8 }],
  size: [124, { bytes: 12 }],
  mtime: [136, { bytes: 12 }],
  chksum: [148, { bytes: 8 }],
  typeflag: [156, { bytes: 1 }],
  linkname: [157, { bytes: 100 }],
  magic: [257, { bytes: 6 }],
  version: [263, { bytes: 2 }],
  uname: [265, { bytes: 32 }],
  gname: [297, { bytes: 32 }],
  devmajor: [329, { bytes: 8 }],
  devminor: [337, { bytes: 8 }],
  /** ustar only; GNU uses this area for atime, ctime, offset, longnames and the sparse map. */
  prefix: [345, { bytes: 155 }],
});

/** GNU "oldgnu" sparse fields inside the header block. */
export const GNU_SPARSE_OFFSET = 386;
export const GNU_SPARSE_HEADER_ENTRIES = 4;
export const GNU_IS_EXTENDED = 482;
export const GNU_REAL_SIZE = 483;
/** A sparse extension block: 21 {offset, numbytes} entries, then the isextended byte. */
export const GNU_EXTENSION_ENTRIES = 21;
export const GNU_EXTENSION_IS_EXTENDED = 504;
export const SPARSE_ENTRY = 24;

export interface SparseEntry {
  readonly offset: number;
  readonly length: number;
}

/**
 * Writes `value` into a numeric field of `width` bytes: width-1 octal digits and a NUL when
 * it fits, else base-256 (a GNU extension every current reader accepts).
 */
export function encodeNumber(into: Uint8Array, at: number, width: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ImageError('tar.number', `Internal error: cannot store ${value} in a tar header`);
  }
  if (value < 8 ** (width - 1)) {
    const text = value.toString(8).padStart(width - 1, '0');
    for (let i = 0; i < width - 1; i++) into[at + i] = text.charCodeAt(i);
    into[at + width - 1] = 0;
    return;
  }
  let rest = BigInt(value);
  for (let i = width - 1; i >= 1; i--) {
    into[at + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  into[at] = 0x80;
}

/** Reads a numeric field (octal or base-256); for tests and patching. */
export function decodeNumber(from: Uint8Array, at: number, width: number): number {
  if ((from[at]! & 0x80) !== 0) {
    let value = 0n;
    for (let i = 1; i < width; i++) value = (value << 8n) | BigInt(from[at + i]!);
    return Number(value);
  }
  let text = '';
  for (let i = 0; i < width; i++) {
    const c = from[at + i]!;
    if (c === 0 || c === 0x20) break;
    text += String.fromCharCode(c);
  }
  return text === '' ? 0 : parseInt(text, 8);
}

/** Sum of the header bytes with the checksum field counted as spaces (format-specs §0.1). */
export function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

function setChecksum(block: Uint8Array): void {
  const text = headerChecksum(block).toString(8).padStart(6, '0');
  for (let i = 0; i < 6; i++) block[148 + i] = text.charCodeAt(i);
  block[154] = 0;
  block[155] = 0x20;
}

export interface HeaderFields {
  readonly name: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  /** Hard link and symlink targets. */
  readonly linkname?: string;
  readonly uname: string;
  readonly gname: string;
  readonly format: TarFormat;
  /** Only for GNU sparse members: the whole map (data regions plus the terminating entry). */
  readonly sparse?: { readonly realSize: number; readonly entries: readonly SparseEntry[] };
}

const utf8 = new TextEncoder();

/**
 * Names and link targets are byte strings (one character per byte, as the file trees hold
 * them), so any name round-trips; a character above 0xff is refused rather than mangled.
 */
function nameBytes(name: string, what: string): Uint8Array {
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) > 0xff) {
      throw new ImageError('tar.name', `Cannot store the ${what} "${name}" in a tar header: it is not a byte string`);
    }
  }
  return Buffer.from(name, 'latin1');
}

/**
 * Splits a long name into ustar (prefix, name) as GNU tar does: at the first '/' that leaves
 * at most 100 bytes for the name, provided the prefix is at most 155 bytes.
 */
function splitName(bytes: Uint8Array, format: TarFormat): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (bytes.length <= 100) return { prefix: new Uint8Array(0), name: bytes };
  if (format !== 'ustar') return undefined;
  for (let i = bytes.length - 101; i < bytes.length - 1 && i <= 155; i++) {
    if (bytes[i] === 0x2f) return i === 0 ? undefined : { prefix: bytes.subarray(0, i), name: bytes.subarray(i + 1) };
  }
  return undefined;
}

/**
 * Encodes a member header; with `sparse`, also the extension blocks the map needs. Returns
 * one or more 512-byte blocks. uid and gid are always 0.
 */
export function encodeHeader(fields: HeaderFields): Uint8Array {
  const name = nameBytes(fields.name, 'name');
  const link = nameBytes(fields.linkname ?? '', 'link target');
  // GNU tar's long names: a pseudo-member holding the whole name, then the header with its first 100 bytes.
  if (fields.format === 'gnu' && (name.length > 100 || link.length > 100)) {
    const longRecord = (typeflag: string, bytes: Uint8Array): Uint8Array => {
      const data = new Uint8Array(Math.ceil((bytes.length + 1) / TAR_BLOCK) * TAR_BLOCK);
      data.set(bytes, 0);
      const head = encodeHeader({ name: '././@LongLink', mode: 0o644, size: bytes.length + 1, mtime: 0, typeflag, uname: fields.uname, gname: fields.gname, format: 'gnu' });
      return Buffer.concat([head, data]);
    };
    const cut = (bytes: Uint8Array): string => Buffer.from(bytes.subarray(0, 100)).toString('latin1');
    return Buffer.concat([
      ...(link.length > 100 ? [longRecord(TYPE_GNU_LONG_LINK, link)] : []),
      ...(name.length > 100 ? [longRecord(TYPE_GNU_LONG_NAME, name)] : []),
      encodeHeader({ ...fields, name: cut(name), ...(fields.linkname === undefined ? {} : { linkname: cut(link) }) }),
    ]);
  }
  if (link.length > 100) {
    throw new ImageError('tar.name', `Cannot store the link target "${fields.linkname}" in a ${fields.format} tar header: it is longer than 100 bytes`, { hint: 'use the GNU format' });
  }
  const split = splitName(name, fields.format);
  if (split === undefined || name.length === 0) {
    throw new ImageError('tar.name', `Cannot store the name "${fields.name}" in a ${fields.format} tar header: it is empty or too long`, {
      hint: fields.format === 'ustar' ? 'use at most 100 bytes after the last "/" and 155 before it' : 'use at most 100 bytes',
    });
  }
  const entries = fields.sparse?.entries ?? [];
  const extensionBlocks = Math.ceil(Math.max(0, entries.length - GNU_SPARSE_HEADER_ENTRIES) / GNU_EXTENSION_ENTRIES);
  const out = new Uint8Array(TAR_BLOCK * (1 + extensionBlocks));
  const block = out.subarray(0, TAR_BLOCK);
  block.set(split.name, 0);
  encodeNumber(block, 100, 8, fields.mode);
  encodeNumber(block, 108, 8, 0);
  encodeNumber(block, 116, 8, 0);
  encodeNumber(block, 124, 12, fields.size);
  encodeNumber(block, 136, 12, fields.mtime);
  block[156] = fields.typeflag.charCodeAt(0);
  block.set(link, 157);
  if (fields.format === 'ustar') {
    tarHeader.encode({ magic: utf8.encode('ustar\0'), version: utf8.encode('00') }, block);
  } else {
    tarHeader.encode({ magic: utf8.encode('ustar '), version: utf8.encode(' \0') }, block);
  }
  const uname = utf8.encode(fields.uname);
  const gname = utf8.encode(fields.gname);
  if (uname.length > 31 || gname.length > 31) {
    throw new ImageError('tar.owner', `Cannot store the owner "${fields.uname}:${fields.gname}" in a tar header: names are at most 31 bytes`);
  }
  block.set(uname, 265);
  block.set(gname, 297);
  if (fields.format === 'ustar') {
    // GNU tar writes zero device numbers for every ustar member.
    encodeNumber(block, 329, 8, 0);
    encodeNumber(block, 337, 8, 0);
    block.set(split.prefix, 345);
  }
  if (fields.sparse !== undefined) {
    if (fields.format !== 'gnu') throw new ImageError('tar.sparse-format', 'Internal error: sparse members need the GNU format');
    const writeEntry = (into: Uint8Array, at: number, entry: SparseEntry): void => {
      encodeNumber(into, at, 12, entry.offset);
      encodeNumber(into, at + 12, 12, entry.length);
    };
    entries.slice(0, GNU_SPARSE_HEADER_ENTRIES).forEach((e, i) => writeEntry(block, GNU_SPARSE_OFFSET + i * SPARSE_ENTRY, e));
    block[GNU_IS_EXTENDED] = extensionBlocks > 0 ? 1 : 0;
    encodeNumber(block, GNU_REAL_SIZE, 12, fields.sparse.realSize);
    for (let b = 0; b < extensionBlocks; b++) {
      const ext = out.subarray(TAR_BLOCK * (b + 1), TAR_BLOCK * (b + 2));
      const first = GNU_SPARSE_HEADER_ENTRIES + b * GNU_EXTENSION_ENTRIES;
      entries.slice(first, first + GNU_EXTENSION_ENTRIES).forEach((e, i) => writeEntry(ext, i * SPARSE_ENTRY, e));
      ext[GNU_EXTENSION_IS_EXTENDED] = b + 1 < extensionBlocks ? 1 : 0;
    }
  }
  setChecksum(block);
  return out;
}
