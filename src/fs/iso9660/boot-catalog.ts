/**
 * The El Torito boot catalog (El Torito 1.0, 2.x): a validation entry, the initial (default)
 * entry, and for a second image a final section header with one section entry. Images are
 * "no emulation"; sizes are in 512-byte virtual sectors.
 */
import { SECTOR_SIZE } from './both-endian.js';

export const PLATFORM_X86 = 0x00;
export const PLATFORM_EFI = 0xef;
const BOOTABLE = 0x88;
const NO_EMULATION = 0;
const HEADER_FINAL = 0x91;

export interface BootEntry {
  readonly platform: number;
  /** 512-byte sectors the firmware loads (a u16). */
  readonly loadSectors: number;
  readonly sector: number;
}

function encodeEntry(entry: BootEntry, into: Uint8Array, at: number): void {
  const view = new DataView(into.buffer, into.byteOffset);
  into[at] = BOOTABLE;
  into[at + 1] = NO_EMULATION;
  view.setUint16(at + 6, Math.min(entry.loadSectors, 0xffff), true);
  view.setUint32(at + 8, entry.sector, true);
}

export function encodeBootCatalog(entries: readonly BootEntry[]): Uint8Array {
  const out = new Uint8Array(SECTOR_SIZE);
  const view = new DataView(out.buffer);
  const first = entries[0]!;
  out[0] = 1; // header id
  out[1] = first.platform;
  out[0x1e] = 0x55;
  out[0x1f] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + view.getUint16(i, true)) & 0xffff;
  view.setUint16(0x1c, (0x10000 - sum) & 0xffff, true);
  encodeEntry(first, out, 32);
  let at = 64;
  for (const entry of entries.slice(1)) {
    out[at] = HEADER_FINAL;
    out[at + 1] = entry.platform;
    view.setUint16(at + 2, 1, true);
    encodeEntry(entry, out, at + 32);
    at += 64;
  }
  return out;
}
