/**
 * Worker thread of AnticipationThread (anticipation.ts): reads one part of a store file
 * and compresses it as the stream would (a gzip piece with no dictionary, or a zstd frame),
 * so the layout's walk on the main thread keeps its core while new data is compressed.
 */
import { parentPort } from 'node:worker_threads';
import { crc32 } from '../core/checksum.js';
import { readListedPart } from '../core/listed-file.js';
import type { PoolReply } from '../core/worker-pool.js';
import { claimJob } from '../core/take-back-worker.js';
import type { AnticipatedCodec, AnticipationJob, AnticipationResult } from './anticipation-job.js';
import { deflatePieceSync } from './deflate-piece.js';
import { threadEncoder } from './zstd-encoder.js';
import { zstdFrameBound } from './zstd-frame.js';

function compress(data: Uint8Array, codec: AnticipatedCodec): Uint8Array {
  if (codec.kind === 'deflate') return deflatePieceSync(data, codec.level, false, undefined);
  const output = new Uint8Array(zstdFrameBound(data.length));
  return output.subarray(0, threadEncoder(codec.level, codec.checksum)(data, output));
}

const port = parentPort;
if (port === null) throw new Error('anticipation-worker.js runs only as a worker thread');

port.on('message', (job: AnticipationJob) => {
  let reply: PoolReply<AnticipationResult>;
  const transfer: ArrayBuffer[] = [];
  try {
    if (!claimJob(job)) {
      port.postMessage({ id: job.id, bytes: new ArrayBuffer(0), length: -1, crc: 0 } satisfies PoolReply<AnticipationResult>);
      return;
    }
    const { path, size, offset, length } = job.part;
    const data = readListedPart(path, size, offset, length);
    const bytes = compress(data, job.codec);
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    transfer.push(own.buffer as ArrayBuffer);
    reply = { id: job.id, bytes: own.buffer as ArrayBuffer, length: own.length, crc: crc32(data) };
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, transfer);
});
