/**
 * Worker thread of the output digests (file-digest.ts): keeps one SHA-256 per digest and
 * extends it by ranges it reads from the output file itself, so the image's hash costs
 * the thread that writes it nothing but a message every few MiB.
 */
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { PoolReply } from './worker-pool.js';

export type DigestJob = { readonly id: number; readonly digest: number } & (
  | { readonly op: 'range'; readonly fd: number; readonly from: number; readonly to: number }
  | { readonly op: 'zeros'; readonly length: number }
  | { readonly op: 'restart' }
  | { readonly op: 'finish' }
  | { readonly op: 'drop' });

export interface DigestResult {
  /** Lower-case hex, for 'finish'; empty for the other ops. */
  readonly sha256: string;
}

const READ_CHUNK = 4 << 20;
const ZERO_CHUNK = new Uint8Array(1 << 20);

const port = parentPort;
if (port === null) throw new Error('file-digest-worker.js runs only as a worker thread');

const hashes = new Map<number, Hash>();
const buffer = new Uint8Array(READ_CHUNK);

function hashOf(digest: number): Hash {
  let hash = hashes.get(digest);
  if (hash === undefined) {
    hash = createHash('sha256');
    hashes.set(digest, hash);
  }
  return hash;
}

function run(job: DigestJob): string {
  switch (job.op) {
    case 'range': {
      const hash = hashOf(job.digest);
      for (let at = job.from; at < job.to;) {
        const n = readSync(job.fd, buffer, 0, Math.min(READ_CHUNK, job.to - at), at);
        if (n === 0) throw new Error(`the file ended at ${at}, before ${job.to}`);
        hash.update(buffer.subarray(0, n));
        at += n;
      }
      return '';
    }
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
      return sha256;
    }
    case 'drop':
      hashes.delete(job.digest);
      return '';
  }
}

port.on('message', (job: DigestJob) => {
  let reply: PoolReply<DigestResult>;
  try {
    reply = { id: job.id, sha256: run(job) };
  } catch (error) {
    // The digest's owner sees this error when it finishes, whatever later jobs give.
    hashes.delete(job.digest);
    reply = { id: job.id, error: (error as Error).message };
  }
  port.postMessage(reply);
});
