/**
 * FAT boot sector (sector 0 of the volume) with its BIOS parameter block.
 * Reference: Microsoft "FAT: General Overview of On-Disk Format" (fatgen103) §3.1-3.3;
 * format-specs §9.1. FAT12/16 and FAT32 share bytes 0..35 and differ from byte 36 on,
 * so each variant is its own 512-byte table built from the shared fields.
 */
import { asciiBytes, defineStruct } from '../../core/struct.js';
import type { FatGeometry } from './geometry.js';

const SHARED_FIELDS = {
  jumpBoot: [0, { bytes: 3 }],
  oemName: [3, { bytes: 8 }],
  bytesPerSector: [11, 'u16le'],
  sectorsPerCluster: [13, 'u8'],
  reservedSectors: [14, 'u16le'],
  fatCount: [16, 'u8'],
  rootEntries: [17, 'u16le'],
  totalSectors16: [19, 'u16le'],
  media: [21, 'u8'],
  sectorsPerFat16: [22, 'u16le'],
  sectorsPerTrack: [24, 'u16le'],
  heads: [26, 'u16le'],
  hiddenSectors: [28, 'u32le'],
  totalSectors32: [32, 'u32le'],
  signature: [510, 'u16le'],
} as const;

/** FAT12 and FAT16: extended BPB at 36, boot code from 62. */
export const BOOT_SECTOR_16 = defineStruct('FatBootSector16', 512, {
  ...SHARED_FIELDS,
  driveNumber: [36, 'u8'],
  /** Windows keeps its "volume dirty" flags here; 0 = clean. */
  reserved1: [37, 'u8'],
  bootSignature: [38, 'u8'],
  volumeId: [39, 'u32le'],
  volumeLabel: [43, { bytes: 11 }],
  fsType: [54, { bytes: 8 }],
});

/** FAT32: FAT32 fields at 36, extended BPB at 64, boot code from 90. */
export const BOOT_SECTOR_32 = defineStruct('FatBootSector32', 512, {
  ...SHARED_FIELDS,
  sectorsPerFat32: [36, 'u32le'],
  /** Bit 7 clear: every FAT is kept up to date (mirroring). */
  extFlags: [40, 'u16le'],
  fsVersion: [42, 'u16le'],
  rootCluster: [44, 'u32le'],
  fsInfoSector: [48, 'u16le'],
  backupBootSector: [50, 'u16le'],
  reserved: [52, { bytes: 12 }],
  driveNumber: [64, 'u8'],
  reserved1: [65, 'u8'],
  bootSignature: [66, 'u8'],
  volumeId: [67, 'u32le'],
  volumeLabel: [71, { bytes: 11 }],
  fsType: [82, { bytes: 8 }],
});

export const BOOT_SIGNATURE = 0xaa55;
export const EXTENDED_BOOT_SIGNATURE = 0x29;
export const BOOT_CODE_OFFSET_16 = 62;
export const BOOT_CODE_OFFSET_32 = 90;
/** Where FAT32 keeps its FSInfo sector and the copy of sectors 0..2. */
export const FSINFO_SECTOR = 1;
export const BACKUP_BOOT_SECTOR = 6;
/** What the BPB says when there is no label. */
export const NO_NAME = 'NO NAME    ';

/**
 * The volume is not bootable; if a BIOS jumps here anyway, ask it for the next boot
 * device (int 18h), and halt if it returns: `int 18h; cli; hlt; jmp short hlt`.
 */
const NOT_BOOTABLE = Uint8Array.of(0xcd, 0x18, 0xfa, 0xf4, 0xeb, 0xfd);

export interface BootSectorInput {
  readonly geometry: FatGeometry;
  readonly hiddenSectors: number;
  readonly volumeId: number;
  /** 11 bytes, space padded; NO_NAME when the volume has no label. */
  readonly label11: string;
}

export function encodeBootSector(input: BootSectorInput): Uint8Array {
  const g = input.geometry;
  const codeOffset = g.fatType === 32 ? BOOT_CODE_OFFSET_32 : BOOT_CODE_OFFSET_16;
  const shared = {
    // A short jump over the BPB to the boot code, then a NOP.
    jumpBoot: Uint8Array.of(0xeb, codeOffset - 2, 0x90),
    oemName: asciiBytes('MSWIN4.1', 8),
    bytesPerSector: g.bytesPerSector,
    sectorsPerCluster: g.sectorsPerCluster,
    reservedSectors: g.reservedSectors,
    fatCount: g.fatCount,
    rootEntries: g.rootEntries,
    totalSectors16: g.totalSectors < 0x10000 ? g.totalSectors : 0,
    media: g.media,
    sectorsPerFat16: g.fatType === 32 ? 0 : g.sectorsPerFat,
    sectorsPerTrack: g.sectorsPerTrack,
    heads: g.heads,
    hiddenSectors: input.hiddenSectors,
    totalSectors32: g.totalSectors < 0x10000 ? 0 : g.totalSectors,
    signature: BOOT_SIGNATURE,
  };
  const tail = {
    driveNumber: g.driveNumber,
    reserved1: 0,
    bootSignature: EXTENDED_BOOT_SIGNATURE,
    volumeId: input.volumeId,
    volumeLabel: asciiBytes(input.label11, 11, 0x20),
    fsType: asciiBytes(`FAT${g.fatType}`, 8, 0x20),
  };
  const sector = new Uint8Array(512);
  if (g.fatType === 32) {
    BOOT_SECTOR_32.encode({
      ...shared,
      ...tail,
      sectorsPerFat32: g.sectorsPerFat,
      extFlags: 0,
      fsVersion: 0,
      rootCluster: g.rootCluster,
      fsInfoSector: FSINFO_SECTOR,
      backupBootSector: BACKUP_BOOT_SECTOR,
    }, sector);
  } else {
    BOOT_SECTOR_16.encode({ ...shared, ...tail }, sector);
  }
  sector.set(NOT_BOOTABLE, codeOffset);
  return sector;
}
