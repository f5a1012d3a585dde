/**
 * FAT32 FSInfo sector (fatgen103 §5; format-specs §9.1): the free-cluster count and a
 * hint where to look for free clusters. fsck.fat checks the three signatures and that
 * the free count is exact ("Free cluster summary wrong"); 0xFFFFFFFF ("unknown") makes it
 * print "Free cluster summary uninitialized", so the count is always written.
 */
import { defineStruct } from '../../core/struct.js';

export const FSINFO = defineStruct('FatFsInfo', 512, {
  leadSignature: [0, 'u32le'],
  structSignature: [484, 'u32le'],
  freeCount: [488, 'u32le'],
  nextFree: [492, 'u32le'],
  trailSignature: [508, 'u32le'],
});

export const FSINFO_LEAD_SIGNATURE = 0x41615252; // "RRaA"
export const FSINFO_STRUCT_SIGNATURE = 0x61417272; // "rrAa"
export const FSINFO_TRAIL_SIGNATURE = 0xaa550000;
export const FSINFO_UNKNOWN = 0xffffffff;

export function encodeFsInfo(freeClusters: number, nextFree: number): Uint8Array {
  return FSINFO.encode({
    leadSignature: FSINFO_LEAD_SIGNATURE,
    structSignature: FSINFO_STRUCT_SIGNATURE,
    freeCount: freeClusters,
    nextFree,
    trailSignature: FSINFO_TRAIL_SIGNATURE,
  });
}
