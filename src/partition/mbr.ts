/** Master boot record in sector 0 (format-specs §7.1): boot code, signature, 4 entries. */
import { defineStruct } from '../core/struct.js';
import { SECTOR } from './types.js';

export const mbrEntryStruct = defineStruct('mbr.entry', 16, {
  status: [0, 'u8'],
  chsFirst: [1, { bytes: 3 }],
  type: [4, 'u8'],
  chsLast: [5, { bytes: 3 }],
  firstLba: [8, 'u32le'],
  sectors: [12, 'u32le'],
});

export interface MbrEntry {
  readonly bootable: boolean;
  readonly type: number;
  readonly firstLba: number;
  readonly sectors: number;
}

/** CHS address with 255 heads and 63 sectors per track; FE FF FF past the CHS limit. */
export function chs(lba: number): Uint8Array {
  if (lba >= 1024 * 255 * 63) return Uint8Array.of(0xfe, 0xff, 0xff);
  const cylinder = Math.floor(lba / (255 * 63));
  const head = Math.floor(lba / 63) % 255;
  const sector = (lba % 63) + 1;
  return Uint8Array.of(head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff);
}

export interface MbrOptions {
  readonly entries: readonly MbrEntry[];
  readonly diskSignature: number;
  /** Up to 440 bytes of boot code (GRUB's boot.img); zeros otherwise. */
  readonly bootCode?: Uint8Array;
}

export function encodeMbr(options: MbrOptions): Uint8Array {
  const sector = new Uint8Array(SECTOR);
  if (options.bootCode !== undefined) sector.set(options.bootCode.subarray(0, 440), 0);
  new DataView(sector.buffer).setUint32(440, options.diskSignature >>> 0, true);
  options.entries.forEach((e, i) => {
    mbrEntryStruct.encode({
      status: e.bootable ? 0x80 : 0,
      chsFirst: chs(e.firstLba),
      type: e.type,
      chsLast: chs(e.firstLba + e.sectors - 1),
      firstLba: e.firstLba,
      sectors: e.sectors,
    }, sector, 446 + 16 * i);
  });
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** The protective MBR of a GPT disk: one 0xEE entry covering the disk, as sgdisk writes it. */
export function protectiveMbr(totalSectors: number, bootCode?: Uint8Array): Uint8Array {
  const sectors = Math.min(totalSectors - 1, 0xffffffff);
  const sector = encodeMbr({
    entries: [{ bootable: false, type: 0xee, firstLba: 1, sectors }],
    diskSignature: 0,
    ...(bootCode === undefined ? {} : { bootCode }),
  });
  mbrEntryStruct.encode({ chsFirst: Uint8Array.of(0x00, 0x02, 0x00), chsLast: chs(sectors) }, sector, 446);
  return sector;
}
