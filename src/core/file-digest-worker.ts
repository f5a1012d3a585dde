/**
 * Worker thread of the output digests (file-digest.ts): keeps one SHA-256 per digest and
 * extends it by ranges it reads from the output file itself, so the image's hash costs
 * the thread that writes it nothing but a message every few MiB. It also copies checked
 * ranges of cache entries into the output (core/checked-copy.ts), hashing them on the way,
 * and hashes the ranges the copy worker (file-copy-worker.ts) writes once they are written.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { PoolReply } from './worker-pool.js';
import { copyCheckedRange, CopyMemory, type CheckedRange, type CopyFailure } from './checked-copy.js';
import { CopyProgress } from './copy-progress.js';

export type DigestJob = { readonly id: number; readonly digest: number } & (
  | { readonly op: 'range'; readonly fd: number; readonly from: number; readonly to: number }
  /** Like 'range', once the copy worker's copy `sequence` is done; nothing when that copy was not made (the build is made again). */
  | { readonly op: 'copied'; readonly fd: number; readonly from: number; readonly to: number; readonly sequence: number; readonly progress: SharedArrayBuffer }
  | { readonly op: 'zeros'; readonly length: number }
  /** Copies `range` to `position` of the file at `output`; with `hash`, the copied bytes extend the hash. */
  | { readonly op: 'copy'; readonly output: string; readonly position: number; readonly range: CheckedRange; readonly hash: boolean }
  | { readonly op: 'restart' }
  | { readonly op: 'finish' }
  | { readonly op: 'drop' });

export interface DigestResult {
  /** Lower-case hex, for 'finish'; empty for the other ops. */
  readonly sha256: string;
  /** For a 'copy' not made: why (nothing was written). */
  readonly failed?: CopyFailure;
  /** For a 'copy' whose write failed: the error code (ENOSPC). */
  readonly writeFailed?: string;
}

const READ_CHUNK = 4 << 20;
const ZERO_CHUNK = new Uint8Array(1 << 20);

const port = parentPort;
if (port === null) throw new Error('file-digest-worker.js runs only as a worker thread');

const hashes = new Map<number, Hash>();
const buffer = new Uint8Array(READ_CHUNK);
const copyMemory = new CopyMemory();
/** The output files copies are written to, by digest: opened here, closed when the digest finishes or is dropped. */
const outputs = new Map<number, number>();

function closeOutput(digest: number): void {
  const fd = outputs.get(digest);
  if (fd === undefined) return;
  outputs.delete(digest);
  closeSync(fd);
}

function hashOf(digest: number): Hash {
  let hash = hashes.get(digest);
  if (hash === undefined) {
    hash = createHash('sha256');
    hashes.set(digest, hash);
  }
  return hash;
}

function run(job: DigestJob): DigestResult {
  if (job.op === 'copy') {
    const hash = job.hash ? hashOf(job.digest) : undefined;
    let failed: CopyFailure | undefined;
    try {
      let fd = outputs.get(job.digest);
      if (fd === undefined) outputs.set(job.digest, fd = openSync(job.output, 'r+'));
      failed = copyCheckedRange(job.range, fd, job.position, copyMemory, hash === undefined ? undefined : (bytes) => hash.update(bytes));
    } catch (error) {
      return { sha256: '', writeFailed: (error as NodeJS.ErrnoException).code ?? String(error) };
    }
    return failed === undefined ? { sha256: '' } : { sha256: '', failed };
  }
  return { sha256: hashStep(job) };
}

function hashStep(job: Exclude<DigestJob, { op: 'copy' }>): string {
  switch (job.op) {
    case 'range':
      hashRange(job.digest, job.fd, job.from, job.to);
      return '';
    case 'copied':
      if (new CopyProgress(job.progress).waitFor(job.sequence)) hashRange(job.digest, job.fd, job.from, job.to);
      return '';
    case 'zeros': {
      const hash = hashOf(job.digest);
      for (let left = job.length; left > 0; left -= ZERO_CHUNK.length) hash.update(ZERO_CHUNK.subarray(0, Math.min(left, ZERO_CHUNK.length)));
      return '';
    }
    case 'restart':
      hashes.set(job.digest, createHash('sha256'));
      return '';
    case 'finish': {
      const sha256 = hashOf(job.digest).digest('hex');
      hashes.delete(job.digest);
      closeOutput(job.digest);
      return sha256;
    }
    case 'drop':
      hashes.delete(job.digest);
      closeOutput(job.digest);
      return '';
  }
}

function hashRange(digest: number, fd: number, from: number, to: number): void {
  const hash = hashOf(digest);
  for (let at = from; at < to;) {
    const n = readSync(fd, buffer, 0, Math.min(READ_CHUNK, to - at), at);
    if (n === 0) throw new Error(`the file ended at ${at}, before ${to}`);
    hash.update(buffer.subarray(0, n));
    at += n;
  }
}

port.on('message', (job: DigestJob) => {
  let reply: PoolReply<DigestResult>;
  try {
    reply = { id: job.id, ...run(job) };
  } catch (error) {
    // The digest's owner sees this error when it finishes, whatever later jobs give.
    hashes.delete(job.digest);
    closeOutput(job.digest);
    reply = { id: job.id, error: (error as Error).message };
  }
  port.postMessage(reply);
});
