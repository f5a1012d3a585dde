/**
 * Worker thread that copies checked ranges of cache entries into outputs (core/checked-copy.ts)
 * beside the digest thread (file-digest-worker.ts), so that a rebuild made mostly of cached
 * bytes has two threads writing them. Jobs are done in the order they come; each one's
 * outcome is published in shared memory (CopyProgress) before its reply, for the digest
 * thread, which hashes a copied range once it is written.
 */
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { PoolReply } from './worker-pool.js';
import { copyCheckedRange, CopyMemory, type CheckedRange, type CopyFailure } from './checked-copy.js';
import { CopyProgress } from './copy-progress.js';

export interface CopyJob {
  readonly id: number;
  /** This copy's number among every copy the worker is given, from 1. */
  readonly sequence: number;
  readonly progress: SharedArrayBuffer;
  readonly output: string;
  readonly position: number;
  readonly range: CheckedRange;
}

export interface CopyResult {
  /** Why the copy was not made (nothing was written). */
  readonly failed?: CopyFailure;
  /** The error code of a failed write (ENOSPC). */
  readonly writeFailed?: string;
}

const port = parentPort;
if (port === null) throw new Error('file-copy-worker.js runs only as a worker thread');

const memory = new CopyMemory();

function copy(job: CopyJob): CopyResult {
  let fd: number;
  try {
    // Opened by path for each copy: a job still queued when its output was abandoned never
    // writes into another file that was given the same descriptor.
    fd = openSync(job.output, 'r+');
  } catch (error) {
    return { writeFailed: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    const failed = copyCheckedRange(job.range, fd, job.position, memory);
    return failed === undefined ? {} : { failed };
  } catch (error) {
    return { writeFailed: (error as NodeJS.ErrnoException).code ?? String(error) };
  } finally {
    closeSync(fd);
  }
}

port.on('message', (job: CopyJob) => {
  const result = copy(job);
  new CopyProgress(job.progress).publish(job.sequence, result.failed === undefined && result.writeFailed === undefined);
  const reply: PoolReply<CopyResult> = { id: job.id, ...result };
  port.postMessage(reply);
});
