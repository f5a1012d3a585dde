/**
 * The isohybrid MBR in the first 512 bytes, as xorriso -isohybrid-mbr writes it: the
 * 432-byte boot code (syslinux's isohdpfx.bin), the BIOS boot image's 512-byte sector at
 * 432 for that code, a disk signature, partition 1 active from sector 0 over the whole
 * image (type 0x17, or 0x00 beside a GPT), and with a GPT partition 2 (0xEF) over the EFI image.
 */
import { mbrEntryStruct } from '../../partition/mbr.js';

export const MBR_CODE_BYTES = 432;
const TYPE_ISO = 0x17;
const TYPE_EMPTY_BESIDE_GPT = 0x00;
const TYPE_EFI = 0xef;
const CHS_BEYOND = Uint8Array.of(0xfe, 0xff, 0xff);

export interface DiskGeometry {
  readonly heads: number;
  readonly sectorsPerTrack: number;
}

/**
 * libisofs's cylinder alignment: 64 heads of 32 sectors (1 MiB cylinders) up to 1024 such
 * cylinders, 255 heads of 63 sectors beyond.
 */
export function hybridGeometry(imageSectors512: number): DiskGeometry {
  return imageSectors512 <= 1024 * 64 * 32 ? { heads: 64, sectorsPerTrack: 32 } : { heads: 255, sectorsPerTrack: 63 };
}

function chs(lba: number, g: DiskGeometry): Uint8Array {
  const cylinder = Math.floor(lba / (g.heads * g.sectorsPerTrack));
  if (cylinder > 1023) return CHS_BEYOND;
  const head = Math.floor(lba / g.sectorsPerTrack) % g.heads;
  const sector = (lba % g.sectorsPerTrack) + 1;
  return Uint8Array.of(head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff);
}

export interface HybridMbrInput {
  readonly code: Uint8Array | undefined;
  /** 512-byte sector of the BIOS boot image, for isohdpfx.bin; undefined without one. */
  readonly bootImageSector512: number | undefined;
  readonly diskSignature: number;
  readonly imageSectors512: number;
  readonly withGpt: boolean;
  /** 512-byte sectors of the EFI image (partition 2 beside a GPT). */
  readonly efi: { readonly first: number; readonly count: number } | undefined;
}

export function encodeHybridMbr(input: HybridMbrInput): Uint8Array {
  const out = new Uint8Array(512);
  if (input.code !== undefined) out.set(input.code.subarray(0, MBR_CODE_BYTES), 0);
  const view = new DataView(out.buffer);
  if (input.bootImageSector512 !== undefined) view.setUint32(432, input.bootImageSector512, true);
  view.setUint32(440, input.diskSignature >>> 0, true);
  const geometry = hybridGeometry(input.imageSectors512);
  const sectors = Math.min(input.imageSectors512, 0xffffffff);
  mbrEntryStruct.encode({
    status: 0x80,
    chsFirst: chs(0, geometry),
    type: input.withGpt ? TYPE_EMPTY_BESIDE_GPT : TYPE_ISO,
    chsLast: chs(sectors - 1, geometry),
    firstLba: 0,
    sectors,
  }, out, 446);
  if (input.withGpt && input.efi !== undefined) {
    mbrEntryStruct.encode({
      status: 0, chsFirst: CHS_BEYOND, type: TYPE_EFI, chsLast: CHS_BEYOND, firstLba: input.efi.first, sectors: input.efi.count,
    }, out, 462);
  }
  out[510] = 0x55;
  out[511] = 0xaa;
  return out;
}
