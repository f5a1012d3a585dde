/**
 * qcow2 version 3 on-disk structures (qemu docs/interop/qcow2.txt; format-specs §1).
 * All integers are big-endian.
 */
import { ImageError, UsageError } from '../core/errors.js';
import { defineStruct } from '../core/struct.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const QCOW2_VERSION = 3;
/** 16-bit refcounts, as qemu-img creates by default. */
export const REFCOUNT_ORDER = 4;
/** Header length with the compression_type byte and its padding, as qemu 7.2 writes it. */
export const HEADER_LENGTH = 112;
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** qemu refuses to open images whose L1 table is larger (qemu-img 7.2: "image size is too large"). */
export const MAX_L1_BYTES = 32 << 20;
/** qemu refuses to open images whose refcount table is larger. */
export const MAX_REFCOUNT_TABLE_BYTES = 8 << 20;

/** The version 3 header, cluster 0 offset 0. Header extensions follow at `headerLength`. */
export const qcow2Header = defineStruct('qcow2 header', HEADER_LENGTH, {
  magic: [0, 'u32be'],
  version: [4, 'u32be'],
  backingFileOffset: [8, 'u64be'],
  backingFileSize: [16, 'u32be'],
  clusterBits: [20, 'u32be'],
  /** Virtual size in bytes; qemu uses only whole 512-byte sectors of it. */
  size: [24, 'u64be'],
  cryptMethod: [32, 'u32be'],
  l1Size: [36, 'u32be'],
  l1TableOffset: [40, 'u64be'],
  refcountTableOffset: [48, 'u64be'],
  refcountTableClusters: [56, 'u32be'],
  nbSnapshots: [60, 'u32be'],
  snapshotsOffset: [64, 'u64be'],
  /** bit 0 dirty, 1 corrupt, 2 external data file, 3 compression type, 4 extended L2. */
  incompatibleFeatures: [72, 'u64be'],
  /** bit 0 lazy refcounts. */
  compatibleFeatures: [80, 'u64be'],
  autoclearFeatures: [88, 'u64be'],
  refcountOrder: [96, 'u32be'],
  headerLength: [100, 'u32be'],
  /** 0 = deflate ("zlib"); any other value needs incompatible feature bit 3. */
  compressionType: [104, 'u8'],
});

/** A header extension is {u32 type, u32 length, data padded to 8}; type 0 ends the list. */
export const headerExtension = defineStruct('qcow2 header extension', 8, {
  type: [0, 'u32be'],
  length: [4, 'u32be'],
});
export const HEADER_EXTENSION_END = 0;

/** L1 and standard L2 entries: the table or cluster is referenced exactly once. */
export const OFLAG_COPIED = 1n << 63n;
/** L2 entries: the cluster is stored compressed (then COPIED must be clear). */
export const OFLAG_COMPRESSED = 1n << 62n;

/** Number of 8-byte entries in one L2 table. */
export function l2EntryCount(clusterBits: number): number {
  return (1 << clusterBits) / 8;
}

/** L1 entries needed to map `virtualSize` bytes. */
export function l1EntryCount(virtualSize: number, clusterBits: number): number {
  const bytesPerL2 = (1 << clusterBits) * l2EntryCount(clusterBits);
  return Math.ceil(virtualSize / bytesPerL2);
}

/** L1 entry for an L2 table at `offset`, or standard L2 entry for a data cluster at `offset`. */
export function copiedEntry(offset: number): bigint {
  return BigInt(offset) | OFLAG_COPIED;
}

/**
 * Compressed-cluster L2 entry. With x = 62 - (cluster_bits - 8), bits 0..x-1 hold the byte
 * offset of the stream and bits x..61 the number of 512-byte sectors it touches beyond the
 * one holding its first byte.
 */
export function compressedEntry(clusterBits: number, offset: number, length: number): bigint {
  const shift = 62 - (clusterBits - 8);
  const sectorMask = (1 << (clusterBits - 8)) - 1;
  const additionalSectors = Math.floor((offset + length - 1) / 512) - Math.floor(offset / 512);
  if (length < 1 || additionalSectors > sectorMask || offset >= 2 ** shift) {
    throw new ImageError('qcow2.compressed-entry', `Internal error: cannot describe a ${length}-byte compressed stream at ${offset} with ${clusterBits}-bit clusters`);
  }
  return OFLAG_COMPRESSED | (BigInt(additionalSectors) << BigInt(shift)) | BigInt(offset);
}

/** The header fields that vary between images; everything else is fixed for what we write. */
export interface Qcow2HeaderFields {
  readonly clusterBits: number;
  /** Virtual size in bytes, a multiple of 512. */
  readonly size: number;
  readonly l1Size: number;
  readonly l1TableOffset: number;
  readonly refcountTableOffset: number;
  readonly refcountTableClusters: number;
}

/**
 * The version 3 header (112 bytes, 16-bit refcounts, deflate compression type, no
 * features) followed by the end-of-extensions marker.
 */
export function encodeQcow2Header(fields: Qcow2HeaderFields): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH + headerExtension.size);
  qcow2Header.encode({
    magic: QCOW2_MAGIC,
    version: QCOW2_VERSION,
    backingFileOffset: 0,
    backingFileSize: 0,
    clusterBits: fields.clusterBits,
    size: fields.size,
    cryptMethod: 0,
    l1Size: fields.l1Size,
    l1TableOffset: fields.l1TableOffset,
    refcountTableOffset: fields.refcountTableOffset,
    refcountTableClusters: fields.refcountTableClusters,
    nbSnapshots: 0,
    snapshotsOffset: 0,
    incompatibleFeatures: 0,
    compatibleFeatures: 0,
    autoclearFeatures: 0,
    refcountOrder: REFCOUNT_ORDER,
    headerLength: HEADER_LENGTH,
    compressionType: 0,
  }, header);
  headerExtension.encode({ type: HEADER_EXTENSION_END, length: 0 }, header, HEADER_LENGTH);
  return header;
}

/** Checks a cluster_bits option (default 16, 64 KiB clusters). */
export function checkClusterBits(value: number | undefined): number {
  const clusterBits = value ?? 16;
  if (!Number.isInteger(clusterBits) || clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw new UsageError('qcow2.cluster-bits', `Cannot use qcow2 cluster bits ${clusterBits}: expected a whole number from ${MIN_CLUSTER_BITS} to ${MAX_CLUSTER_BITS}`, {
      hint: '16 gives the usual 64 KiB clusters',
    });
  }
  return clusterBits;
}

export interface Qcow2Geometry {
  readonly clusterSize: number;
  /** The image size rounded up to whole 512-byte sectors (qemu ignores a partial last sector). */
  readonly virtualSize: number;
  readonly l2Entries: number;
  readonly l1Size: number;
}

/** Sizes of an image's mapping; refuses L1 tables larger than qemu opens. */
export function qcow2Geometry(imageSize: number, clusterBits: number): Qcow2Geometry {
  const clusterSize = 2 ** clusterBits;
  const virtualSize = Math.ceil(imageSize / 512) * 512;
  const l1Size = l1EntryCount(virtualSize, clusterBits);
  if (l1Size * 8 > MAX_L1_BYTES) {
    throw new UsageError('qcow2.too-large', `Cannot write a ${virtualSize}-byte qcow2 image with ${clusterSize}-byte clusters: its L1 table would exceed ${MAX_L1_BYTES} bytes`, {
      hint: 'use larger clusters',
    });
  }
  return { clusterSize, virtualSize, l2Entries: l2EntryCount(clusterBits), l1Size };
}
