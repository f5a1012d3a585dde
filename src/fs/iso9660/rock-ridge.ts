/**
 * System Use Sharing Protocol entries (SUSP 1.12) and the Rock Ridge entries (RRIP 1.10,
 * as xorriso writes them: ER "RRIP_1991A", 36-byte PX) carrying POSIX names, modes,
 * owners, link counts, symlink targets and times.
 */
import { putBoth32 } from './both-endian.js';
import { recordDate } from './iso-date.js';

function entry(signature: string, body: Uint8Array, version = 1): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = signature.charCodeAt(0);
  out[1] = signature.charCodeAt(1);
  out[2] = out.length;
  out[3] = version;
  out.set(body, 4);
  return out;
}

/** SP: marks SUSP in use; only in the root's "." record. */
export function spEntry(): Uint8Array {
  return entry('SP', Uint8Array.of(0xbe, 0xef, 0));
}

export const CE_LENGTH = 28;

/** CE: where the rest of this record's entries continue (block, offset in it, length). */
export function ceEntry(block: number, offset: number, length: number): Uint8Array {
  const body = new Uint8Array(24);
  putBoth32(body, 0, block);
  putBoth32(body, 8, offset);
  putBoth32(body, 16, length);
  return entry('CE', body);
}

const ER_ID = 'RRIP_1991A';
const ER_DESCRIPTOR = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const ER_SOURCE = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

/** ER: names the extension in use (Rock Ridge); in the root's "." record. */
export function erEntry(): Uint8Array {
  const text = ER_ID + ER_DESCRIPTOR + ER_SOURCE;
  const body = new Uint8Array(4 + text.length);
  body[0] = ER_ID.length;
  body[1] = ER_DESCRIPTOR.length;
  body[2] = ER_SOURCE.length;
  body[3] = 1; // extension version
  for (let i = 0; i < text.length; i++) body[4 + i] = text.charCodeAt(i);
  return entry('ER', body);
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** PX: st_mode (type and permission bits), st_nlink, st_uid, st_gid. */
export function pxEntry(mode: number, nlink: number, uid: number, gid: number): Uint8Array {
  const body = new Uint8Array(32);
  putBoth32(body, 0, mode);
  putBoth32(body, 8, nlink);
  putBoth32(body, 16, uid);
  putBoth32(body, 24, gid);
  return entry('PX', body);
}

const TF_MODIFY = 0x02;
const TF_ACCESS = 0x04;
const TF_ATTRIBUTES = 0x08;

/** TF: modification, access and attribute-change times, each a 7-byte record date. */
export function tfEntry(mtime: number): Uint8Array {
  const date = recordDate(mtime);
  const body = new Uint8Array(1 + 3 * 7);
  body[0] = TF_MODIFY | TF_ACCESS | TF_ATTRIBUTES;
  for (let i = 0; i < 3; i++) body.set(date, 1 + 7 * i);
  return entry('TF', body);
}

const CONTINUE = 0x01;
/** Payload bytes per NM or SL entry: the length byte caps an entry at 255. */
const NM_CHUNK = 250;

/** NM: the real name (bytes as in the tree), split over several entries when long. */
export function nmEntries(name: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < name.length || out.length === 0; at += NM_CHUNK) {
    const part = name.slice(at, at + NM_CHUNK);
    const body = new Uint8Array(1 + part.length);
    body[0] = at + NM_CHUNK < name.length ? CONTINUE : 0;
    for (let i = 0; i < part.length; i++) body[1 + i] = part.charCodeAt(i);
    out.push(entry('NM', body));
  }
  return out;
}

const SL_CURRENT = 0x02;
const SL_PARENT = 0x04;
const SL_ROOT = 0x08;
/**
 * Bytes of an SL entry's body (its flags byte and component records; 255 less the 4-byte
 * header, rounded down), and of one component record's payload, so that a record always
 * fits an entry of its own.
 */
const SL_BODY_MAX = 250;
const COMPONENT_CHUNK = SL_BODY_MAX - 1 - 2;

/** SL: a symlink target as component records ("/", ".", "..", names), over several entries when long. */
export function slEntries(target: string): Uint8Array[] {
  const components: Uint8Array[] = [];
  const parts = target.split('/');
  if (target.startsWith('/')) {
    components.push(Uint8Array.of(SL_ROOT, 0));
    parts.shift();
  }
  // The layout refuses empty components ("a//b", "a/"), which readers drop.
  parts.forEach((part) => {
    if (part === '.') { components.push(Uint8Array.of(SL_CURRENT, 0)); return; }
    if (part === '..') { components.push(Uint8Array.of(SL_PARENT, 0)); return; }
    for (let at = 0; at < part.length || at === 0; at += COMPONENT_CHUNK) {
      const piece = part.slice(at, at + COMPONENT_CHUNK);
      const record = new Uint8Array(2 + piece.length);
      record[0] = at + COMPONENT_CHUNK < part.length ? CONTINUE : 0;
      record[1] = piece.length;
      for (let i = 0; i < piece.length; i++) record[2 + i] = piece.charCodeAt(i);
      components.push(record);
      if (part.length === 0) break;
    }
  });
  const entries: Uint8Array[][] = [[]];
  let used = 0;
  for (const component of components) {
    // A new entry only after a non-empty one: an SL without components crashes xorriso.
    if (used > 0 && used + component.length > SL_BODY_MAX - 1) { entries.push([]); used = 0; }
    entries[entries.length - 1]!.push(component);
    used += component.length;
  }
  return entries.map((list, i) => {
    const body = new Uint8Array(1 + list.reduce((n, c) => n + c.length, 0));
    body[0] = i < entries.length - 1 ? CONTINUE : 0;
    let at = 1;
    for (const c of list) { body.set(c, at); at += c.length; }
    return entry('SL', body);
  });
}
