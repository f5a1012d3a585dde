/**
 * Reads zstd frame headers (RFC 8878 §3.1.1), for tests and inspection, and bounds a
 * frame's size for the buffers that receive one. A frame is: magic
 * 0xFD2FB528 (little-endian), the frame header descriptor byte, optional window
 * descriptor, dictionary id and frame content size, the blocks, and an optional 4-byte
 * content checksum (the low 32 bits of XXH64 of the decompressed content).
 */
import { ImageError } from '../core/errors.js';

export const ZSTD_MAGIC = 0xfd2fb528;
/** Offset of the frame header descriptor. */
const DESCRIPTOR = 4;
const CHECKSUM_FLAG = 0x04;

export interface FrameHeader {
  /** Frame content size, when the header carries it. */
  readonly contentSize: number | undefined;
  readonly checksum: boolean;
  readonly singleSegment: boolean;
}

/** Room for one frame of `length` input bytes: zstd's worst case (length + length/256 + header) with margin. */
export function zstdFrameBound(length: number): number {
  return length + (length >> 7) + 65536;
}

/** Decodes the frame header at the start of `frame` (for tests and inspection). */
export function readFrameHeader(frame: Uint8Array): FrameHeader {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) throw new ImageError('zstd.frame', 'Not a zstd frame: wrong magic number');
  const descriptor = frame[DESCRIPTOR]!;
  const fcsFlag = descriptor >>> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const checksum = (descriptor & CHECKSUM_FLAG) !== 0;
  const dictIdBytes = [0, 1, 2, 4][descriptor & 0x03]!;
  const at = DESCRIPTOR + 1 + (singleSegment ? 0 : 1) + dictIdBytes;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  let contentSize: number | undefined;
  switch (fcsBytes) {
    case 1: contentSize = view.getUint8(at); break;
    case 2: contentSize = view.getUint16(at, true) + 256; break;
    case 4: contentSize = view.getUint32(at, true); break;
    case 8: contentSize = Number(view.getBigUint64(at, true)); break;
    default: contentSize = undefined;
  }
  return { contentSize, checksum, singleSegment };
}
