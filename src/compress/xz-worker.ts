/**
 * Worker thread of xzSink: compresses one chunk per message into one .xz block (LZMA2, runs
 * of random-looking bytes stored, and its CRC32 check), independent of every other block,
 * as `xz -T` does.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type { PoolReply } from '../core/worker-pool.js';
import { compressLzma2Mixed } from './lzma2.js';
import { xzBlock, type XzBlockRecord } from './xz-container.js';

export interface XzJob {
  readonly id: number;
  readonly buffer: ArrayBuffer;
  readonly length: number;
  readonly preset: number;
  readonly dictionarySize: number;
}

export interface XzResult {
  /** The job's input buffer, back for reuse. */
  readonly buffer: ArrayBuffer;
  readonly block: Uint8Array;
  readonly record: XzBlockRecord;
}

/** V8's collector, reached the way --expose-gc would expose it (workers cannot take the flag). */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const port = parentPort;
if (port === null) throw new Error('xz-worker.js runs only as a worker thread');

port.on('message', async (job: XzJob) => {
  let reply: PoolReply<XzResult>;
  try {
    const plain = new Uint8Array(job.buffer, 0, job.length);
    const { bytes, record } = xzBlock(await compressLzma2Mixed(plain, job.preset, job.dictionarySize), plain, job.dictionarySize);
    reply = { id: job.id, buffer: job.buffer, block: bytes, record };
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, 'buffer' in reply ? [reply.buffer, reply.block.buffer as ArrayBuffer] : []);
  // Each encoder holds native memory the JavaScript heap does not see, freed only when the
  // encoder is collected: without a collection per block, thousands of them pile up.
  collect();
});
