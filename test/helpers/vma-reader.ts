/**
 * An independent VMA v1 reader for the tests, written from the format description
 * (Proxmox's vma_spec.txt and docs/formats/vma.md), sharing no code with the writer. It
 * checks every magic, version, reserved field, md5, uuid, pointer and blockinfo entry,
 * extracts the config blobs, and restores each device as a raw file, as `vma verify` and
 * `vma extract` would. Any deviation throws VmaFormatError naming the byte offset.
 */
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

export class VmaFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VmaFormatError';
  }
}

export interface VmaDevice {
  readonly id: number;
  readonly name: string;
  readonly size: number;
}

export interface VmaContents {
  readonly uuid: string;
  readonly ctime: number;
  readonly headerSize: number;
  readonly blobBufferSize: number;
  readonly configs: readonly { readonly name: string; readonly data: Uint8Array }[];
  readonly devices: readonly VmaDevice[];
  readonly extents: number;
  /** Clusters listed in each extent, in order. */
  readonly clustersPerExtent: readonly number[];
  /** 4 KiB blocks stored (non-zero blocks). */
  readonly storedBlocks: number;
  readonly fileSize: number;
}

const BLOCK = 4096;
const CLUSTER = 65536;
const EXTENT_HEADER = 512;
const SLOTS = 59;
const FIXED = 12288;

function fail(message: string): never {
  throw new VmaFormatError(message);
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Reads exactly `length` bytes at `position`, or fewer at the end of the file. */
function readAt(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return out.subarray(0, got);
}

/**
 * Parses and verifies the archive at `path`. With `restore`, each device is written to
 * the path it returns (created or truncated to the device size; stored blocks written,
 * everything else left as holes).
 */
export function readVma(path: string, restore?: (device: VmaDevice) => string): VmaContents {
  const fd = openSync(path, 'r');
  const outputs = new Map<number, number>();
  try {
    // --- Header -------------------------------------------------------------------
    const fixed = readAt(fd, 0, FIXED);
    if (fixed.length < FIXED) fail(`header: file has ${fixed.length} bytes, the fixed header needs ${FIXED}`);
    const fv = new DataView(fixed.buffer);
    if (hex(fixed.subarray(0, 4)) !== '564d4100') fail(`header @0: magic ${hex(fixed.subarray(0, 4))}, expected 564d4100 ("VMA\\0")`);
    const version = fv.getUint32(4, false);
    if (version !== 1) fail(`header @4: version ${version}, expected 1`);
    const headerSize = fv.getUint32(56, false);
    if (headerSize <= FIXED || headerSize % 512 !== 0) fail(`header @56: header_size ${headerSize}, expected a multiple of 512 above ${FIXED}`);
    const header = readAt(fd, 0, headerSize);
    if (header.length < headerSize) fail(`header: file ends at ${header.length}, before header_size ${headerSize}`);
    const hv = new DataView(header.buffer);
    const storedMd5 = header.slice(32, 48);
    const zeroed = header.slice();
    zeroed.fill(0, 32, 48);
    const md5 = createHash('md5').update(zeroed).digest();
    if (hex(md5) !== hex(storedMd5)) fail(`header @32: md5 ${hex(storedMd5)}, computed ${hex(md5)}`);
    const uuid = header.slice(8, 24);
    const ctime = Number(hv.getBigUint64(24, false));
    const blobOffset = hv.getUint32(48, false);
    const blobSize = hv.getUint32(52, false);
    if (blobOffset !== FIXED) fail(`header @48: blob_buffer_offset ${blobOffset}, expected ${FIXED}`);
    if (blobSize < 1 || blobOffset + blobSize > headerSize) fail(`header @52: blob_buffer_size ${blobSize} does not fit header_size ${headerSize}`);
    if (!isZero(header.subarray(60, 2044))) fail('header @60: reserved bytes 60-2043 are not zero');
    if (!isZero(header.subarray(4092, 4096))) fail('header @4092: reserved bytes 4092-4095 are not zero');

    // Blob buffer: position 0 unused, then [u16 little-endian length][bytes] to blob_buffer_size.
    const blobs = new Map<number, Uint8Array>();
    if (header[blobOffset] !== 0) fail(`blob buffer @${blobOffset}: position 0 is not zero`);
    let at = 1;
    while (at < blobSize) {
      if (at + 2 > blobSize) fail(`blob buffer @${blobOffset + at}: a length field crosses blob_buffer_size ${blobSize}`);
      const length = header[blobOffset + at]! | (header[blobOffset + at + 1]! << 8);
      if (at + 2 + length > blobSize) fail(`blob buffer @${blobOffset + at}: a ${length}-byte blob runs past blob_buffer_size ${blobSize}`);
      blobs.set(at, header.slice(blobOffset + at + 2, blobOffset + at + 2 + length));
      at += 2 + length;
    }
    if (!isZero(header.subarray(blobOffset + blobSize, headerSize))) fail(`blob buffer @${blobOffset + blobSize}: bytes after blob_buffer_size are not zero`);
    const blobAt = (pointer: number, where: string): Uint8Array => blobs.get(pointer) ?? fail(`${where}: pointer ${pointer} is not the start of a blob`);
    const stringAt = (pointer: number, where: string): string => {
      const blob = blobAt(pointer, where);
      if (blob.length === 0 || blob[blob.length - 1] !== 0) fail(`${where}: the string blob at ${pointer} is not NUL-terminated`);
      const text = blob.subarray(0, blob.length - 1);
      if (text.includes(0)) fail(`${where}: the string blob at ${pointer} has a NUL inside`);
      return new TextDecoder('utf-8', { fatal: true }).decode(text);
    };

    const configs: { name: string; data: Uint8Array }[] = [];
    for (let i = 0; i < 256; i++) {
      const namePtr = hv.getUint32(2044 + 4 * i, false);
      const dataPtr = hv.getUint32(3068 + 4 * i, false);
      if (namePtr === 0 && dataPtr === 0) continue;
      if (namePtr === 0 || dataPtr === 0) fail(`header @${2044 + 4 * i}: config ${i} has a name or data pointer but not both`);
      configs.push({ name: stringAt(namePtr, `config_names[${i}]`), data: blobAt(dataPtr, `config_data[${i}]`) });
    }

    const devices: VmaDevice[] = [];
    if (!isZero(header.subarray(4096, 4128))) fail('header @4096: dev_info[0] is not zero');
    for (let id = 1; id < 256; id++) {
      const base = 4096 + 32 * id;
      const namePtr = hv.getUint32(base, false);
      const size = Number(hv.getBigUint64(base + 8, false));
      if (hv.getUint32(base + 4, false) !== 0 || !isZero(header.subarray(base + 16, base + 32))) fail(`header @${base}: dev_info[${id}] reserved fields are not zero`);
      if (namePtr === 0 && size === 0) continue;
      if (namePtr === 0 || size === 0) fail(`header @${base}: dev_info[${id}] has a name or a size but not both`);
      devices.push({ id, name: stringAt(namePtr, `dev_info[${id}].devname_ptr`), size });
    }
    if (devices.length === 0) fail('header: no devices');
    const byId = new Map(devices.map((d) => [d.id, d]));
    const seen = new Map(devices.map((d) => [d.id, new Uint8Array(Math.ceil(d.size / CLUSTER))]));
    if (restore !== undefined) {
      for (const device of devices) {
        const out = openSync(restore(device), 'w');
        outputs.set(device.id, out);
        ftruncateSync(out, device.size);
      }
    }

    // --- Extents --------------------------------------------------------------------
    let position = headerSize;
    let extents = 0;
    let storedBlocks = 0;
    const clustersPerExtent: number[] = [];
    for (;;) {
      const eh = readAt(fd, position, EXTENT_HEADER);
      if (eh.length === 0) break;
      if (eh.length < EXTENT_HEADER) fail(`extent @${position}: ${eh.length} bytes left, an extent header needs ${EXTENT_HEADER}`);
      const ev = new DataView(eh.buffer);
      if (hex(eh.subarray(0, 4)) !== '564d4145') fail(`extent @${position}: magic ${hex(eh.subarray(0, 4))}, expected 564d4145 ("VMAE")`);
      if (ev.getUint16(4, false) !== 0) fail(`extent @${position + 4}: reserved field is ${ev.getUint16(4, false)}`);
      const stored = eh.slice(24, 40);
      const copy = eh.slice();
      copy.fill(0, 24, 40);
      const computed = createHash('md5').update(copy).digest();
      if (hex(stored) !== hex(computed)) fail(`extent @${position + 24}: md5 ${hex(stored)}, computed ${hex(computed)}`);
      if (hex(eh.subarray(8, 24)) !== hex(uuid)) fail(`extent @${position + 8}: uuid ${hex(eh.subarray(8, 24))}, the header's is ${hex(uuid)}`);
      const blockCount = ev.getUint16(6, false);
      const data = readAt(fd, position + EXTENT_HEADER, blockCount * BLOCK);
      if (data.length < blockCount * BLOCK) fail(`extent @${position}: block_count ${blockCount} needs ${blockCount * BLOCK} bytes, the file has ${data.length}`);
      let dataAt = 0;
      let listed = 0;
      for (let slot = 0; slot < SLOTS; slot++) {
        const entryAt = 40 + 8 * slot;
        const high = ev.getUint32(entryAt, false);
        const cluster = ev.getUint32(entryAt + 4, false);
        const mask = high >>> 16;
        const reserved = (high >>> 8) & 0xff;
        const devId = high & 0xff;
        if (devId === 0) {
          if (high !== 0 || cluster !== 0) fail(`extent @${position + entryAt}: blockinfo ${slot} has no device but is not zero`);
          continue;
        }
        listed++;
        if (reserved !== 0) fail(`extent @${position + entryAt}: blockinfo ${slot} reserved byte is ${reserved}`);
        const device = byId.get(devId) ?? fail(`extent @${position + entryAt}: blockinfo ${slot} names device ${devId}, which the header does not list`);
        const bitmap = seen.get(devId)!;
        if (cluster >= bitmap.length) fail(`extent @${position + entryAt}: cluster ${cluster} is past the end of ${device.name} (${bitmap.length} clusters)`);
        if (bitmap[cluster] !== 0) fail(`extent @${position + entryAt}: cluster ${cluster} of ${device.name} appears twice`);
        bitmap[cluster] = 1;
        for (let block = 0; block < 16; block++) {
          if ((mask & (1 << block)) === 0) continue;
          if (dataAt + BLOCK > data.length) fail(`extent @${position}: the masks name more blocks than block_count ${blockCount}`);
          const offset = cluster * CLUSTER + block * BLOCK;
          if (offset >= device.size) fail(`extent @${position + entryAt}: block ${block} of cluster ${cluster} starts past the end of ${device.name}`);
          const out = outputs.get(devId);
          if (out !== undefined) {
            const length = Math.min(BLOCK, device.size - offset);
            writeSync(out, data, dataAt, length, offset);
          }
          dataAt += BLOCK;
          storedBlocks++;
        }
      }
      if (dataAt !== data.length) fail(`extent @${position}: block_count ${blockCount} but the masks name ${dataAt / BLOCK} blocks`);
      extents++;
      clustersPerExtent.push(listed);
      position += EXTENT_HEADER + data.length;
    }
    for (const device of devices) {
      const missing = seen.get(device.id)!.indexOf(0);
      if (missing >= 0) fail(`end of archive: cluster ${missing} of ${device.name} is missing`);
    }
    return {
      uuid: hex(uuid), ctime, headerSize, blobBufferSize: blobSize, configs, devices, extents, clustersPerExtent, storedBlocks,
      fileSize: position,
    };
  } finally {
    for (const out of outputs.values()) closeSync(out);
    closeSync(fd);
  }
}
