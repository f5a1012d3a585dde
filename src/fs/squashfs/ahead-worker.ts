/**
 * Worker thread of BlocksAhead (blocks-ahead.ts): reads one whole block of a file of a new
 * store path, and when the cache lacks it (keyed as the writer keys it: the block's
 * SHA-256 under the codec's settings) compresses it as the block pool would, so the
 * writer finds it when it gets there.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { FilePart } from '../../core/described-spans.js';
import { readListedPart } from '../../core/listed-file.js';
import { claimJob, type ClaimedJob } from '../../core/take-back-worker.js';
import { UnitCache } from '../../core/unit-cache.js';
import type { PoolReply } from '../../core/worker-pool.js';
import { compressBlock } from './block-compress.js';
import type { BlockCodec } from './codec.js';

export interface AheadJob extends ClaimedJob {
  readonly part: FilePart;
  readonly codec: BlockCodec;
  /** blockCacheSettings of the block's length. */
  readonly settings: string;
  readonly cacheDirectory: string;
}

export interface AheadResult {
  /** The cache key (hex) the block goes under; '' when nothing was made (taken back, all zeros, or cached already). */
  readonly key: string;
  /** The compressed block; empty when it is stored raw. */
  readonly bytes: ArrayBuffer;
  readonly stored: boolean;
}

let zeros = new Uint8Array(0);
const NOTHING: AheadResult = { key: '', bytes: new ArrayBuffer(0), stored: false };

const port = parentPort;
if (port === null) throw new Error('ahead-worker.js runs only as a worker thread');

port.on('message', async (job: AheadJob) => {
  let reply: PoolReply<AheadResult>;
  const transfer: ArrayBuffer[] = [];
  try {
    reply = { id: job.id, ...NOTHING };
    if (claimJob(job)) {
      const { path, size, offset, length } = job.part;
      const data = readListedPart(path, size, offset, length);
      // All-zero blocks are written sparse, never compressed.
      if (zeros.length !== length) zeros = new Uint8Array(length);
      if (Buffer.compare(data, zeros) !== 0) {
        const key = UnitCache.key(job.settings, createHash('sha256').update(data).digest());
        if (!existsSync(UnitCache.entryFile(job.cacheDirectory, key))) {
          const output = await compressBlock(job.codec, data);
          const stored = output.length >= data.length;
          const bytes = stored ? new ArrayBuffer(0) : output.slice().buffer as ArrayBuffer;
          transfer.push(bytes);
          reply = { id: job.id, key: key.toString('hex'), bytes, stored };
        }
      }
    }
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, transfer);
});
