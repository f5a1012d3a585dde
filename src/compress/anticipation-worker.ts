/**
 * Worker thread of AnticipationThread (anticipation.ts): reads one part of a store file,
 * compresses it as the stream would (a gzip piece with no dictionary, or a zstd frame) and
 * writes its cache entry as the stream's codec keeps it (gzip.ts, zstd.ts), so the layout's
 * walk on the main thread keeps its core while new data is compressed.
 */
import { parentPort } from 'node:worker_threads';
import { crc32 } from '../core/checksum.js';
import { readListedPart } from '../core/listed-file.js';
import type { PoolReply } from '../core/worker-pool.js';
import { claimJob } from '../core/take-back-worker.js';
import type { AnticipatedCodec, AnticipationJob, AnticipationResult } from './anticipation-job.js';
import { writeEntryFile } from '../core/unit-cache.js';
import { deflatePieceSync, describedEntryHeader } from './deflate-piece.js';
import { threadEncoder } from './zstd-encoder.js';
import { zstdFrameBound } from './zstd-frame.js';

/** The entry's payload: a gzip piece after its part's CRC-32 and length, or a zstd frame. */
function compress(data: Uint8Array, codec: AnticipatedCodec): Uint8Array[] {
  if (codec.kind === 'deflate') return [describedEntryHeader(crc32(data), data.length), deflatePieceSync(data, codec.level, false, undefined)];
  const output = new Uint8Array(zstdFrameBound(data.length));
  return [output.subarray(0, threadEncoder(codec.level, codec.checksum)(data, output))];
}

function writeEntry(job: AnticipationJob, payload: readonly Uint8Array[]): number | string {
  try {
    return writeEntryFile(job.entry.temporary, job.entry.key, payload);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

const port = parentPort;
if (port === null) throw new Error('anticipation-worker.js runs only as a worker thread');

port.on('message', (job: AnticipationJob) => {
  let reply: PoolReply<AnticipationResult>;
  try {
    if (!claimJob(job)) {
      reply = { id: job.id, written: undefined };
    } else {
      const { path, size, offset, length } = job.part;
      reply = { id: job.id, written: writeEntry(job, compress(readListedPart(path, size, offset, length), job.codec)) };
    }
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
