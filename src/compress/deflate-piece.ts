/**
 * One piece of a parallel gzip stream (gzip.ts), raw-deflated: ended by a sync flush
 * (byte-aligned, not final) or, for the last piece, by the final block; primed with a
 * preset dictionary or not. On the thread pool or on the calling thread, with the same
 * options, so a piece made ahead on another thread is the piece the stream makes.
 */
import { constants as zlib, deflateRaw, deflateRawSync, type ZlibOptions } from 'node:zlib';

/** How a piece is raw-deflated: a sync flush after it, or the final block. */
function pieceOptions(length: number, level: number, last: boolean, preset: Uint8Array | undefined): ZlibOptions {
  return {
    level,
    finishFlush: last ? zlib.Z_FINISH : zlib.Z_SYNC_FLUSH,
    // The whole piece in one output buffer: with the default 16 KiB, every piece of
    // output is a round trip between the thread pool and this thread.
    chunkSize: length + (length >> 8) + 65536,
    ...(preset === undefined ? {} : { dictionary: preset }),
  };
}

/** Raw-deflates one piece on the thread pool. */
export function deflatePiece(data: Uint8Array, level: number, last: boolean, preset: Uint8Array | undefined): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, pieceOptions(data.length, level, last, preset), (error, piece) => {
      if (error !== null) reject(error);
      else resolve(piece);
    });
  });
}

/** Raw-deflates one piece on this thread (a worker's): the same bytes as deflatePiece. */
export function deflatePieceSync(data: Uint8Array, level: number, last: boolean, preset: Uint8Array | undefined): Uint8Array {
  return deflateRawSync(data, pieceOptions(data.length, level, last, preset));
}

/** A described span's piece is kept in the cache after its CRC-32 (u32) and length (f64), little-endian (gzip.ts). */
export const DESCRIBED_ENTRY_HEADER = 12;

export function describedEntryHeader(crc: number, length: number): Uint8Array {
  const bytes = new Uint8Array(DESCRIBED_ENTRY_HEADER);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, crc >>> 0, true);
  view.setFloat64(4, length, true);
  return bytes;
}
