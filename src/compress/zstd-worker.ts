/**
 * Worker thread of zstdSink: compresses one chunk per message into one zstd frame with
 * the WASM build of the reference library (ZSTD_compress: frame content size in the
 * header, no dictionary). The input buffer travels here and back without copies.
 */
import { parentPort } from 'node:worker_threads';
import { compress, init } from '@bokuweb/zstd-wasm';
import { finishFrame } from './zstd-frame.js';

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

await init();

port.on('message', (job: ZstdJob) => {
  try {
    const input = new Uint8Array(job.buffer, 0, job.length);
    const frame = finishFrame(compress(input, job.level), input, job.checksum);
    const reply: ZstdReply = { id: job.id, buffer: job.buffer, frame: frame.buffer as ArrayBuffer };
    port.postMessage(reply, [job.buffer, frame.buffer as ArrayBuffer]);
  } catch (error) {
    const reply: ZstdReply = { id: job.id, buffer: job.buffer, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply, [job.buffer]);
  }
});
