/**
 * Volume descriptors (ECMA-119 8): the primary, the Joliet supplementary one (UCS-2 level 3
 * escape "%/E"), the El Torito boot record and the set terminator, one sector each from 16.
 */
import { putBoth16, putBoth32, SECTOR_SIZE } from './both-endian.js';
import { unsetVolumeDate, volumeDate } from './iso-date.js';
import { ucs2 } from './joliet-names.js';

export const FIRST_DESCRIPTOR_SECTOR = 16;
const TYPE_BOOT_RECORD = 0;
const TYPE_PRIMARY = 1;
const TYPE_SUPPLEMENTARY = 2;
const TYPE_TERMINATOR = 255;

function header(type: number): Uint8Array {
  const out = new Uint8Array(SECTOR_SIZE);
  out[0] = type;
  out.set(new TextEncoder().encode('CD001'), 1);
  out[6] = 1;
  return out;
}

export interface VolumeFields {
  readonly systemId: string;
  readonly volumeId: string;
  readonly publisherId: string;
  readonly preparerId: string;
  readonly applicationId: string;
  readonly volumeSpaceSize: number;
  readonly pathTableSize: number;
  readonly lPathTable: number;
  readonly mPathTable: number;
  /** The 34-byte record of the root directory. */
  readonly rootRecord: Uint8Array;
  readonly mtime: number;
}

/** Text fields: bytes space-padded (primary) or UCS-2 big-endian space-padded (Joliet). */
function textField(out: Uint8Array, at: number, length: number, text: string, joliet: boolean): void {
  if (joliet) {
    const units = ucs2(text.slice(0, length >> 1));
    for (let i = 0; i < length; i += 2) { out[at + i] = 0; out[at + i + 1] = 0x20; }
    out.set(units, at);
  } else {
    out.fill(0x20, at, at + length);
    for (let i = 0; i < Math.min(text.length, length); i++) out[at + i] = text.charCodeAt(i);
  }
}

function volumeDescriptor(type: number, fields: VolumeFields, joliet: boolean): Uint8Array {
  const out = header(type);
  textField(out, 8, 32, fields.systemId, joliet);
  textField(out, 40, 32, fields.volumeId, joliet);
  putBoth32(out, 80, fields.volumeSpaceSize);
  if (joliet) out.set(new TextEncoder().encode('%/E'), 88);
  putBoth16(out, 120, 1); // volume set size
  putBoth16(out, 124, 1); // volume sequence number
  putBoth16(out, 128, SECTOR_SIZE);
  putBoth32(out, 132, fields.pathTableSize);
  new DataView(out.buffer).setUint32(140, fields.lPathTable, true);
  new DataView(out.buffer).setUint32(148, fields.mPathTable, false);
  out.set(fields.rootRecord, 156);
  textField(out, 190, 128, '', joliet); // volume set
  textField(out, 318, 128, fields.publisherId, joliet);
  textField(out, 446, 128, fields.preparerId, joliet);
  textField(out, 574, 128, fields.applicationId, joliet);
  textField(out, 702, 37, '', joliet); // copyright file
  textField(out, 739, 37, '', joliet); // abstract file
  textField(out, 776, 37, '', joliet); // bibliographic file
  if (joliet) { out[738] = 0; out[775] = 0; out[812] = 0; } // 37 bytes: the odd last byte
  out.set(volumeDate(fields.mtime), 813); // creation
  out.set(volumeDate(fields.mtime), 830); // modification
  out.set(unsetVolumeDate(), 847); // expiration
  out.set(volumeDate(fields.mtime), 864); // effective
  out[881] = 1; // file structure version
  return out;
}

export function primaryDescriptor(fields: VolumeFields): Uint8Array {
  return volumeDescriptor(TYPE_PRIMARY, fields, false);
}

export function jolietDescriptor(fields: VolumeFields): Uint8Array {
  return volumeDescriptor(TYPE_SUPPLEMENTARY, fields, true);
}

/** El Torito 2.0: the boot record names the specification and points at the boot catalog. */
export function bootRecordDescriptor(catalogSector: number): Uint8Array {
  const out = header(TYPE_BOOT_RECORD);
  out.set(new TextEncoder().encode('EL TORITO SPECIFICATION'), 7);
  new DataView(out.buffer).setUint32(0x47, catalogSector, true);
  return out;
}

export function terminatorDescriptor(): Uint8Array {
  return header(TYPE_TERMINATOR);
}
