/**
 * Worker thread of the data block pool: compresses one block per message with the
 * filesystem's codec (block-compress.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { PoolReply } from '../../core/worker-pool.js';
import { compressBlock } from './block-compress.js';
import type { BlockCodec } from './codec.js';

export interface BlockJob {
  readonly id: number;
  readonly codec: BlockCodec;
  readonly input: ArrayBuffer;
  readonly length: number;
}

export interface BlockResult {
  /** The job's input buffer, back for reuse. */
  readonly input: ArrayBuffer;
  /** The compressed block, or a view of the input when it is to be stored raw. */
  readonly output: Uint8Array;
}

const port = parentPort;
if (port === null) throw new Error('compress-worker.js runs only as a worker thread');

port.on('message', async (job: BlockJob) => {
  let reply: PoolReply<BlockResult>;
  try {
    const output = await compressBlock(job.codec, new Uint8Array(job.input, 0, job.length));
    reply = { id: job.id, input: job.input, output };
  } catch (error) {
    reply = { id: job.id, input: job.input, error: error instanceof Error ? error.message : String(error) };
  }
  // The input goes back for reuse; the output (one block) is copied.
  port.postMessage(reply, [job.input]);
});
