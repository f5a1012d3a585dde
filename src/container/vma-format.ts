/**
 * Proxmox VMA version 1 on-disk structures (Proxmox's vma_spec.txt; format-specs §5;
 * docs/formats/vma.md). All integers are big-endian except the 2-byte lengths in the blob
 * buffer, which are little-endian (as Proxmox's writer and reader handle them, although
 * the spec text says every number is big-endian).
 */
import { createHash } from 'node:crypto';
import { ImageError } from '../core/errors.js';
import { defineStruct } from '../core/struct.js';

export const VMA_MAGIC = 0x564d4100; // "VMA\0"
export const VMA_EXTENT_MAGIC = 0x564d4145; // "VMAE"
export const VMA_VERSION = 1;
export const VMA_BLOCK_SIZE = 4096;
export const VMA_CLUSTER_SIZE = 65536;
export const VMA_BLOCKS_PER_CLUSTER = VMA_CLUSTER_SIZE / VMA_BLOCK_SIZE;
export const VMA_EXTENT_HEADER_SIZE = 512;
/** Blockinfo slots in an extent header: at most this many clusters per extent. */
export const VMA_CLUSTERS_PER_EXTENT = 59;
export const VMA_MAX_CONFIGS = 256;
/** dev_info has 256 slots; 0 means "no device" and Proxmox's writer keeps 255 spare. */
export const VMA_MAX_DEVICES = 254;
/** The fixed part of the header; the blob buffer follows it. */
export const VMA_HEADER_FIXED_SIZE = 12288;
export const VMA_CONFIG_NAMES_AT = 2044;
export const VMA_CONFIG_DATA_AT = 3068;
export const VMA_DEV_INFO_AT = 4096;
export const VMA_DEV_INFO_SIZE = 32;
/** A blob's length field is 16 bits. */
export const VMA_MAX_BLOB = 65535;

/** The start of the VMA header (the config pointer arrays and dev_info follow at fixed offsets). */
export const vmaHeader = defineStruct('VMA header', VMA_HEADER_FIXED_SIZE, {
  magic: [0, 'u32be'],
  version: [4, 'u32be'],
  uuid: [8, { bytes: 16 }],
  /** Seconds since the epoch. */
  ctime: [24, 'u64be'],
  /** MD5 of the header's header_size bytes, computed with this field zeroed. */
  md5sum: [32, { bytes: 16 }],
  blobBufferOffset: [48, 'u32be'],
  /** Bytes of the blob buffer in use, counting the unused byte at position 0. */
  blobBufferSize: [52, 'u32be'],
  /** 12288 + the blob buffer's allocated size, a multiple of 512. */
  headerSize: [56, 'u32be'],
});

/** dev_info[i], 32 bytes at 4096 + 32 i; i is the dev_id of the extents' blockinfo. */
export const vmaDeviceInfo = defineStruct('VMA device info', VMA_DEV_INFO_SIZE, {
  /** Position of the NUL-terminated device name in the blob buffer. */
  devnamePtr: [0, 'u32be'],
  reserved0: [4, 'u32be'],
  /** Device size in bytes. */
  size: [8, 'u64be'],
  reserved1: [16, { bytes: 16 }],
});

/** The 512-byte extent header; 59 u64 blockinfo entries follow at `blockinfo`. */
export const vmaExtentHeader = defineStruct('VMA extent header', VMA_EXTENT_HEADER_SIZE, {
  magic: [0, 'u32be'],
  reserved1: [4, 'u16be'],
  /** 4 KiB blocks of data after this header. */
  blockCount: [6, 'u16be'],
  uuid: [8, { bytes: 16 }],
  /** MD5 of these 512 bytes, computed with this field zeroed. */
  md5sum: [24, { bytes: 16 }],
});
export const VMA_BLOCKINFO_AT = 40;

/**
 * One blockinfo entry as its big-endian high and low words:
 * (mask << 48) | (dev_id << 32) | cluster_num, with bits 40-47 reserved (0).
 */
export function blockInfoWords(mask: number, devId: number, cluster: number): [high: number, low: number] {
  return [((mask << 16) | devId) >>> 0, cluster >>> 0];
}

/** MD5 of `bytes` with the 16 bytes at `md5At` taken as zeros; the field is left zeroed. */
export function md5WithFieldZeroed(bytes: Uint8Array, md5At: number): Uint8Array {
  bytes.fill(0, md5At, md5At + 16);
  return createHash('md5').update(bytes).digest();
}

/**
 * The blob buffer: position 0 is an unused byte (so 0 can mean "none"), then blobs of a
 * little-endian u16 length and the bytes. It grows as Proxmox's writer grows it: when a
 * blob does not fit, by the blob's size (with its length field) rounded up to 512 bytes.
 */
export class BlobBuffer {
  private bytes = new Uint8Array(0);
  private used = 1;

  /** Appends a blob and returns its position. */
  add(data: Uint8Array): number {
    if (data.length > VMA_MAX_BLOB) {
      throw new ImageError('vma.blob-too-large', `Cannot store ${data.length} bytes in a VMA blob: at most ${VMA_MAX_BLOB}`);
    }
    if (this.bytes.length < this.used + data.length + 2) {
      const grown = new Uint8Array(this.bytes.length + Math.ceil((data.length + 2) / 512) * 512);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    const at = this.used;
    this.bytes[at] = data.length & 0xff;
    this.bytes[at + 1] = data.length >>> 8;
    this.bytes.set(data, at + 2);
    this.used += data.length + 2;
    return at;
  }

  /** Appends a string with its terminating NUL. */
  addString(text: string): number {
    const encoded = new TextEncoder().encode(text);
    const data = new Uint8Array(encoded.length + 1);
    data.set(encoded);
    return this.add(data);
  }

  /** Bytes in use, counting position 0 (the header's blob_buffer_size). */
  get usedSize(): number {
    return this.used;
  }

  /** The allocated buffer, a multiple of 512 bytes (what follows the fixed header). */
  get allocated(): Uint8Array {
    return this.bytes;
  }
}
