/** Native FAT12/16/32 writer for EFI System Partitions and other small volumes. */
export { buildFat, fatContentBytes, normaliseLabel, type FatOptions } from './writer.js';
export { computeFatGeometry, type FatGeometry, type FatType } from './geometry.js';
