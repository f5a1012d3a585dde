/**
 * Worker thread of zstdSink: compresses one chunk per message into one zstd frame with
 * Node's zstd (the reference library): content size in the header, the XXH64 content
 * checksum when asked, no dictionary. The input buffer travels here and back without
 * copies.
 */
import { parentPort } from 'node:worker_threads';
import { constants, zstdCompressSync } from 'node:zlib';

export interface ZstdJob {
  readonly id: number;
  readonly buffer: ArrayBuffer;
  readonly length: number;
  readonly level: number;
  readonly checksum: boolean;
}

export type ZstdReply =
  | { readonly id: number; readonly buffer: ArrayBuffer; readonly frame: ArrayBuffer }
  | { readonly id: number; readonly buffer: ArrayBuffer; readonly error: string };

const port = parentPort;
if (port === null) throw new Error('zstd-worker.js runs only as a worker thread');

port.on('message', (job: ZstdJob) => {
  try {
    const input = new Uint8Array(job.buffer, 0, job.length);
    const compressed = zstdCompressSync(input, {
      // Without it the encoder leaves the content size out of the header.
      pledgedSrcSize: job.length,
      // One output buffer for the whole frame instead of 16 KiB pieces gathered after.
      chunkSize: job.length + (job.length >> 7) + 65536,
      params: {
        [constants.ZSTD_c_compressionLevel]: job.level,
        [constants.ZSTD_c_checksumFlag]: job.checksum ? 1 : 0,
        [constants.ZSTD_c_contentSizeFlag]: 1,
      },
    });
    // A buffer of its own, so that it can be transferred (small results share a pool).
    const frame = compressed.byteOffset === 0 && compressed.byteLength === compressed.buffer.byteLength
      ? compressed.buffer as ArrayBuffer
      : compressed.buffer.slice(compressed.byteOffset, compressed.byteOffset + compressed.byteLength) as ArrayBuffer;
    const reply: ZstdReply = { id: job.id, buffer: job.buffer, frame };
    port.postMessage(reply, [job.buffer, frame]);
  } catch (error) {
    const reply: ZstdReply = { id: job.id, buffer: job.buffer, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply, [job.buffer]);
  }
});
