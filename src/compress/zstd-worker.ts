/**
 * Worker thread of zstdSink: compresses one chunk per message into one zstd frame with
 * Node's zstd (the reference library). Both the input and the output buffer travel here
 * and back without copies, and the encoder lives as long as the worker, so nothing is
 * allocated per frame.
 */
import { parentPort } from 'node:worker_threads';
import type { PoolReply } from '../core/worker-pool.js';
import { threadEncoder } from './zstd-encoder.js';
import type { zstdFrameBound } from './zstd-frame.js';

export interface ZstdJob {
  readonly id: number;
  readonly buffer: ArrayBuffer;
  readonly length: number;
  /** Receives the frame; at least {@link zstdFrameBound}(length) bytes. */
  readonly output: ArrayBuffer;
  readonly level: number;
  readonly checksum: boolean;
}

export interface ZstdResult {
  readonly buffer: ArrayBuffer;
  readonly output: ArrayBuffer;
  readonly frameLength: number;
}


const port = parentPort;
if (port === null) throw new Error('zstd-worker.js runs only as a worker thread');

port.on('message', (job: ZstdJob) => {
  let reply: PoolReply<ZstdResult> & { buffer: ArrayBuffer; output: ArrayBuffer };
  try {
    const frameLength = threadEncoder(job.level, job.checksum)(new Uint8Array(job.buffer, 0, job.length), new Uint8Array(job.output));
    reply = { id: job.id, buffer: job.buffer, output: job.output, frameLength };
  } catch (error) {
    reply = { id: job.id, buffer: job.buffer, output: job.output, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, [job.buffer, job.output]);
});
