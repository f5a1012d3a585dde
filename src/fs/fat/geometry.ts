/**
 * Volume geometry chosen the way mkfs.fat 4.2 chooses it for a file of the same size
 * (`mkfs.fat -C file KiB`, optionally with `-F`), so an image we write looks like one
 * the reference tool would have made. The rules, observed in mkfs.fat 4.2 and checked
 * byte for byte against it by test/fs/fat/geometry.test.ts:
 *
 * - CHS (cosmetic): up to 524288 sectors (256 MiB) the SD-card table (2/4/8/16 heads, 16
 *   or 32 sectors per track); above, LBA-assist translation (63 sectors, 16..255 heads).
 * - The five floppy sizes (360, 720, 1200, 1440, 2880 KiB) get floppy parameters.
 * - Without an explicit type, volumes of 512 MiB and more are FAT32; smaller ones FAT12
 *   or FAT16, whichever yields more clusters at the first cluster size that works
 *   (starting at 4 sectors, doubling up to 128).
 * - FAT32 starts from Microsoft's cluster-size table (0.5 KiB up to 260 MiB, 4 KiB up
 *   to 8 GiB, then 8, 16, 32 KiB).
 * - The sector count is cut down to a whole number of tracks; the rest of the volume is
 *   left unused.
 * - Above 8192 sectors the reserved area, each FAT and the FAT12/16 root directory are
 *   rounded up to whole clusters, so the data area is cluster-aligned.
 * - Cluster counts 4085 and 4086 are avoided (Windows and Linux disagree on the type).
 */
import { ImageError } from '../../core/errors.js';

export type FatType = 12 | 16 | 32;

export interface FatGeometry {
  readonly fatType: FatType;
  readonly bytesPerSector: 512;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly fatCount: 2;
  /** Fixed root directory slots (FAT12/16); 0 on FAT32. */
  readonly rootEntries: number;
  /** Sectors the file system covers; may be a little less than the volume. */
  readonly totalSectors: number;
  readonly media: number;
  readonly sectorsPerFat: number;
  readonly sectorsPerTrack: number;
  readonly heads: number;
  readonly driveNumber: number;
  /** Data clusters, numbered 2 .. clusterCount + 1. */
  readonly clusterCount: number;
  /** First cluster of the FAT32 root directory (0 on FAT12/16). */
  readonly rootCluster: number;
  readonly clusterBytes: number;
  /** Byte offsets inside the volume. */
  readonly fatOffset: number;
  readonly fatBytes: number;
  readonly rootDirOffset: number;
  readonly rootDirBytes: number;
  readonly dataOffset: number;
}

const SECTOR = 512;
const MAX_CLUSTERS_12 = 4084;
const MIN_CLUSTERS_16 = 4087;
const MAX_CLUSTERS_16 = 65524;
const MIN_CLUSTERS_32 = 65525;
const MAX_CLUSTERS_32 = 268435446;
const FAT_COUNT = 2;
const MAX_SECTORS = 0xffffffff;
const FAT32_BY_DEFAULT_FROM = 512 * 1024 * 1024;

interface FloppyFormat {
  readonly sectorsPerTrack: number;
  readonly heads: number;
  readonly media: number;
  readonly sectorsPerCluster: number;
  readonly rootEntries: number;
}

/** Keyed by size in KiB. */
const FLOPPIES: ReadonlyMap<number, FloppyFormat> = new Map([
  [360, { sectorsPerTrack: 9, heads: 2, media: 0xfd, sectorsPerCluster: 2, rootEntries: 112 }],
  [720, { sectorsPerTrack: 9, heads: 2, media: 0xf9, sectorsPerCluster: 2, rootEntries: 112 }],
  [1200, { sectorsPerTrack: 15, heads: 2, media: 0xf9, sectorsPerCluster: 1, rootEntries: 224 }],
  [1440, { sectorsPerTrack: 18, heads: 2, media: 0xf0, sectorsPerCluster: 1, rootEntries: 224 }],
  [2880, { sectorsPerTrack: 36, heads: 2, media: 0xf0, sectorsPerCluster: 2, rootEntries: 224 }],
]);

function chs(sectors: number): { heads: number; sectorsPerTrack: number } {
  if (sectors <= 524288) {
    const heads = sectors <= 32768 ? 2 : sectors <= 65536 ? 4 : sectors <= 262144 ? 8 : 16;
    return { heads, sectorsPerTrack: sectors <= 4096 ? 16 : 32 };
  }
  const track = 63 * 1024;
  const heads = sectors <= 16 * track ? 16 : sectors <= 32 * track ? 32 : sectors <= 64 * track ? 64
    : sectors <= 128 * track ? 128 : 255;
  return { heads, sectorsPerTrack: 63 };
}

/** Microsoft's FAT32 cluster size by volume size, in sectors per cluster. */
function fat32ClusterStart(sectors: number): number {
  const gib = 2 * 1024 * 1024;
  return sectors > 32 * gib ? 64 : sectors > 16 * gib ? 32 : sectors > 8 * gib ? 16 : sectors > 260 * 2048 ? 8 : 1;
}

interface Candidate {
  readonly clusters: number;
  readonly sectorsPerFat: number;
}

const NONE: Candidate = { clusters: 0, sectorsPerFat: 0 };

/**
 * Clusters and FAT size for one FAT width: estimate the cluster count from the space
 * the FATs and the data share, size the FAT for it, then count again what really fits.
 */
function fit(
  bits: FatType, space: number, sectorsPerCluster: number, roundUp: (sectors: number) => number,
  minClusters: number, maxClusters: number,
): Candidate {
  if (space <= 0) return NONE;
  const perCluster = sectorsPerCluster * SECTOR;
  let estimate: number;
  let fatBytes: number;
  switch (bits) {
    case 12:
      estimate = Math.floor((2 * (space * SECTOR + FAT_COUNT * 3)) / (2 * perCluster + FAT_COUNT * 3));
      fatBytes = Math.floor(((estimate + 2) * 3 + 1) / 2);
      break;
    case 16:
      estimate = Math.floor((space * SECTOR + FAT_COUNT * 4) / (perCluster + FAT_COUNT * 2));
      fatBytes = (estimate + 2) * 2;
      break;
    case 32:
      estimate = Math.floor((space * SECTOR + FAT_COUNT * 8) / (perCluster + FAT_COUNT * 4));
      fatBytes = (estimate + 2) * 4;
      break;
  }
  const sectorsPerFat = roundUp(Math.ceil(fatBytes / SECTOR));
  const clusters = Math.floor((space - FAT_COUNT * sectorsPerFat) / sectorsPerCluster);
  const addressable = Math.min(Math.floor((sectorsPerFat * SECTOR * 8) / bits), maxClusters);
  if (clusters <= 0 || clusters > addressable || clusters < minClusters) return NONE;
  return { clusters, sectorsPerFat };
}

export function computeFatGeometry(sizeBytes: number, requested?: FatType): FatGeometry {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % SECTOR !== 0) {
    throw new ImageError('fat.size-invalid', `Cannot make a FAT volume of ${sizeBytes} bytes: expected a positive multiple of 512`);
  }
  const deviceSectors = sizeBytes / SECTOR;
  let { heads, sectorsPerTrack } = chs(deviceSectors);
  let media = 0xf8;
  let sectorsPerCluster = 4;
  let rootEntries = 512;
  const floppy = FLOPPIES.get(Math.floor(sizeBytes / 1024));
  if (floppy !== undefined) {
    ({ heads, sectorsPerTrack, media, sectorsPerCluster, rootEntries } = floppy);
  }
  const wanted: FatType | undefined = requested ?? (sizeBytes >= FAT32_BY_DEFAULT_FROM ? 32 : undefined);
  if (wanted === 32) {
    sectorsPerCluster = fat32ClusterStart(deviceSectors);
    rootEntries = 0;
  }
  let reservedSectors = wanted === 32 ? 32 : 1;
  let totalSectors = Math.min(deviceSectors, MAX_SECTORS);
  totalSectors -= totalSectors % sectorsPerTrack;
  const rootDirSectors = Math.ceil((rootEntries * 32) / SECTOR);
  const align = totalSectors > 8192;
  const roundUpTo = (sectors: number, cluster: number): number => (align ? Math.ceil(sectors / cluster) * cluster : sectors);

  let c12 = NONE;
  let c16 = NONE;
  let c32 = NONE;
  for (; sectorsPerCluster <= 128; sectorsPerCluster *= 2) {
    const spc = sectorsPerCluster;
    const roundUp = (sectors: number): number => roundUpTo(sectors, spc);
    const space32 = totalSectors - roundUp(reservedSectors);
    const space1216 = space32 - roundUp(rootDirSectors);
    c12 = fit(12, space1216, spc, roundUp, 1, MAX_CLUSTERS_12);
    c16 = fit(16, space1216, spc, roundUp, MIN_CLUSTERS_16, MAX_CLUSTERS_16);
    // Asked for explicitly, FAT32 may have fewer clusters than the type needs (mkfs.fat
    // warns, fsck.fat warns); chosen by size it may not.
    c32 = fit(32, space32, spc, roundUp, requested === 32 ? 1 : MIN_CLUSTERS_32, MAX_CLUSTERS_32);
    if (
      (c12.clusters > 0 && (wanted === undefined || wanted === 12)) ||
      (c16.clusters > 0 && (wanted === undefined || wanted === 16)) ||
      (c32.clusters > 0 && wanted === 32)
    ) break;
  }
  const fatType: FatType = wanted ?? (c16.clusters > c12.clusters ? 16 : 12);
  const chosen = fatType === 12 ? c12 : fatType === 16 ? c16 : c32;
  if (chosen.clusters === 0) {
    throw new ImageError('fat.geometry', `Cannot lay out a FAT${requested ?? ''} volume of ${sizeBytes} bytes: no cluster size from 512 bytes to 64 KiB gives a valid cluster count`, {
      hint: requested === undefined ? 'choose another volume size' : 'choose another volume size or leave the FAT type to the default',
    });
  }
  reservedSectors = roundUpTo(reservedSectors, sectorsPerCluster);
  if (fatType === 32) rootEntries = 0;
  else if (align) rootEntries = roundUpTo(rootDirSectors, sectorsPerCluster) * (SECTOR / 32);

  const rootDirBytes = rootEntries * 32;
  const fatOffset = reservedSectors * SECTOR;
  const fatBytes = chosen.sectorsPerFat * SECTOR;
  const rootDirOffset = fatOffset + FAT_COUNT * fatBytes;
  const dataOffset = rootDirOffset + rootDirBytes;
  // mkfs.fat refuses volumes whose data area would hold fewer than 32 KiB.
  if (Math.floor(sizeBytes / 1024) < Math.ceil(dataOffset / 1024) + 32) {
    throw new ImageError('fat.geometry', `Cannot lay out a FAT volume of ${sizeBytes} bytes: its metadata alone needs ${dataOffset} bytes`, {
      hint: 'choose a larger volume',
    });
  }
  return {
    fatType,
    bytesPerSector: SECTOR,
    sectorsPerCluster,
    reservedSectors,
    fatCount: FAT_COUNT,
    rootEntries,
    totalSectors,
    media,
    sectorsPerFat: chosen.sectorsPerFat,
    sectorsPerTrack,
    heads,
    driveNumber: media === 0xf8 ? 0x80 : 0x00,
    clusterCount: chosen.clusters,
    rootCluster: fatType === 32 ? 2 : 0,
    clusterBytes: sectorsPerCluster * SECTOR,
    fatOffset,
    fatBytes,
    rootDirOffset,
    rootDirBytes,
    dataOffset,
  };
}
