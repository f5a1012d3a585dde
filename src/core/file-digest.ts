/**
 * SHA-256 of an output file, computed while it is written as far as the writes come in
 * file order, and finished by reading back only the bytes that did not. Stream-shaped
 * outputs (compressed, tar-based, streamOptimized VMDK) and writers that declare their
 * skipped zero windows (raw, fixed VHD) are hashed entirely in passing; containers that
 * fill in a header or tables at the end (qcow2, dynamic VHD, VHDX, monolithicSparse VMDK,
 * OVA) are read back from the first byte written out of order.
 *
 * The hashing itself is done on a worker thread (file-digest-worker.ts), which reads the
 * written ranges back from the file (the page cache): the writing thread only says which.
 * Checked ranges of cache entries are copied into the file (copy()) by that thread, which
 * hashes them from memory on the way, and by a second one (file-copy-worker.ts), whose
 * copies it hashes from the file once they are written: those bytes never pass through
 * the writing thread, and a rebuild made mostly of them has two threads copying.
 */
import { fstatSync } from 'node:fs';
import { ImageError } from './errors.js';
import { checkpoint, progressReporter, type PhasedControl } from './progress.js';
import { WorkerPool } from './worker-pool.js';
import type { DigestJob, DigestResult } from './file-digest-worker.js';
import { CheckedCopyFailed, type CheckedRange, type CopyFailure } from './checked-copy.js';
import type { CopyJob, CopyResult } from './file-copy-worker.js';
import { CopyProgress } from './copy-progress.js';

/** In-order bytes are handed to the worker in ranges of this much. */
const RANGE_STEP = 8 << 20;
/** The read-back is handed over in steps of this much, with progress between them. */
const READ_BACK_STEP = 64 << 20;

export interface FileDigest {
  /** Lower-case hex SHA-256 of the whole file. */
  readonly sha256: string;
  /** The file's length in bytes. */
  readonly size: number;
  /** Bytes read back from the file because they were not written in order (0 when all were). */
  readonly readBack: number;
}

/**
 * Of every this many copies in file order, the digest thread makes one itself (hashing it
 * from memory) and the copy worker the others (hashed from the file): a copy costs about
 * three times its hashing, so the two threads get about the same work.
 */
const COPIES_PER_DIGEST_COPY = 3;

/** One worker serves every digest of the process; it keeps the process alive only while it has jobs. */
let pool: WorkerPool<DigestJob, DigestResult> | undefined;
let nextDigest = 0;
/** The copy worker and what it has done, both made for the first copy; its copies' count. */
let copier: { readonly pool: WorkerPool<CopyJob, CopyResult>; readonly progress: CopyProgress } | undefined;
let copySequence = 0;

type JobOf<Op> = Op extends unknown ? Omit<Op, 'id' | 'digest'> : never;

/**
 * Hashes the bytes of a file as they are written, while they are written in order: each
 * write at exactly the hashed length extends the hash. A write further on is left for
 * the read-back; a write inside the hashed part changes bytes already hashed, so the
 * hash restarts from the file at the end.
 */
export class InOrderDigest {
  private readonly digest = nextDigest++;
  /** Bytes [0, hashed) of the file are in the hash (or handed to it), as they will stay. */
  private hashed = 0;
  /** Bytes [posted, hashed) are written in order but not yet handed to the worker. */
  private posted = 0;
  /** Where the first write beyond the hashed part began: declared zeros may not reach it. */
  private firstAhead = Infinity;
  /** The jobs handed over (to either worker) and not yet seen to succeed. */
  private readonly jobs: Promise<unknown>[] = [];
  /** Copies made in file order so far, to share them between the two threads. */
  private inOrderCopies = 0;
  private failure: unknown;
  /** Copies not made (every one, so that one rebuild does without them all), with the order they were asked for in. */
  private readonly copyFailures: { order: number; path: string; reason: CopyFailure }[] = [];
  private copiesAsked = 0;
  /** A job was handed over: the worker holds a hash for this digest. */
  private used = false;

  /**
   * `fd`: the file the ranges are read from, open until finish() or drop(). `copies`: for
   * copy(), the file's path (the worker opens it itself: a copy still queued when the file
   * is abandoned then never writes into another file given the same descriptor) and the
   * error of a copy's failed write (its errno code).
   */
  constructor(private readonly fd: number, private readonly copies?: { readonly path: string; readonly writeFailure: (code: string) => ImageError }) {}

  /** Records `data` written at `position`. */
  written(position: number, data: Uint8Array): void {
    if (data.length === 0) return;
    if (position === this.hashed) {
      this.hashed += data.length;
      if (this.hashed - this.posted >= RANGE_STEP) this.postRange();
    } else if (position < this.hashed) {
      this.restart();
    } else {
      this.firstAhead = Math.min(this.firstAhead, position);
    }
  }

  /**
   * Has a worker copy `range` to `position` of the file once it is checked; when it is next
   * in order, the digest thread hashes it, from memory or once it is written. A range that
   * fails its check is not written, and finish() throws CheckedCopyFailed.
   */
  copy(position: number, range: CheckedRange): void {
    if (range.length === 0) return;
    const copies = this.copies;
    if (copies === undefined) throw new ImageError('output.digest', 'Internal error: a copy into an output digest made without its path');
    const inOrder = position === this.hashed;
    if (inOrder) this.postRange();
    else if (position < this.hashed) this.restart();
    else this.firstAhead = Math.min(this.firstAhead, position);
    if (inOrder && ++this.inOrderCopies % COPIES_PER_DIGEST_COPY === 0) {
      this.noteCopy(this.post({ op: 'copy', output: copies.path, position, range, hash: true }), range);
    } else {
      copier ??= {
        pool: new WorkerPool<CopyJob, CopyResult>({
          url: new URL('./file-copy-worker.js', import.meta.url), size: 1, errorCode: 'output.copy', action: 'Cannot copy cached bytes into the output',
        }),
        progress: new CopyProgress(),
      };
      const { pool: copyPool, progress: copyProgress } = copier;
      const sequence = ++copySequence;
      const progress = copyProgress.memory;
      const copied = copyPool.run((id) => ({ id, sequence, progress, output: copies.path, position, range }));
      copied.catch(() => copyProgress.stop()); // the worker is gone: nothing waits for it any more
      this.jobs.push(copied);
      this.noteCopy(copied, range);
      if (inOrder) this.post({ op: 'copied', fd: this.fd, from: position, to: position + range.length, sequence, progress });
    }
    if (inOrder) this.posted = this.hashed += range.length;
  }

  /** Records that [position, position + length) is left unwritten, to read as zeros. */
  zeros(position: number, length: number): void {
    if (length === 0) return;
    if (position < this.hashed) {
      this.restart();
      return;
    }
    if (position !== this.hashed || position + length > this.firstAhead) return;
    this.postRange();
    this.post({ op: 'zeros', length });
    this.hashed += length;
    this.posted = this.hashed;
  }

  /** Records that the file was cut (or extended) to `length`. */
  truncated(length: number): void {
    if (length < this.hashed) this.restart();
  }

  /** Completes the hash from the file, reading what was not hashed in passing. */
  async finish(control: PhasedControl = {}, phase = 'sha256'): Promise<FileDigest> {
    await this.settled(); // copies still queued may lengthen the file, or fill what is read back
    const size = fstatSync(this.fd).size;
    // Zeros declared past the end the file never reached are not in the file.
    if (this.hashed > size) this.restart();
    this.postRange();
    const from = this.hashed;
    const report = progressReporter(control, phase, size - from);
    if (from < size) report(0);
    for (let at = from; at < size;) {
      const to = Math.min(size, at + READ_BACK_STEP);
      this.post({ op: 'range', fd: this.fd, from: at, to });
      await this.settled();
      at = to;
      report(at - from);
      await checkpoint(control);
    }
    const finished = this.post({ op: 'finish' });
    await this.settled();
    this.used = false; // the worker forgot the hash when it finished it
    return { sha256: (await finished).sha256, size, readBack: size - from };
  }

  /** Forgets the hash (the file was abandoned); nothing is reported. */
  drop(): void {
    if (this.used) this.post({ op: 'drop' });
    this.used = false;
    this.jobs.length = 0;
  }

  private postRange(): void {
    if (this.hashed === this.posted) return;
    this.post({ op: 'range', fd: this.fd, from: this.posted, to: this.hashed });
    this.posted = this.hashed;
  }

  private restart(): void {
    this.post({ op: 'restart' });
    this.hashed = 0;
    this.posted = 0;
    this.firstAhead = 0;
  }

  private post(job: JobOf<DigestJob>): Promise<DigestResult> {
    pool ??= new WorkerPool<DigestJob, DigestResult>({
      url: new URL('./file-digest-worker.js', import.meta.url), size: 1, errorCode: 'output.digest', action: 'Cannot hash the output',
    });
    this.used = true;
    const result = pool.run((id) => ({ ...job, id, digest: this.digest }) as DigestJob);
    // Seen here at once, so that a failure after drop() is never an unhandled rejection.
    result.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.jobs.push(result);
    return result;
  }

  /** Records what a copy's reply says went wrong: a range not copied, or a failed write. */
  private noteCopy(reply: Promise<{ readonly failed?: CopyFailure; readonly writeFailed?: string }>, range: CheckedRange): void {
    const order = this.copiesAsked++;
    reply.then((outcome) => {
      if (outcome.failed !== undefined) this.copyFailures.push({ order, path: range.path, reason: outcome.failed });
      if (outcome.writeFailed !== undefined) this.failure ??= this.copies!.writeFailure(outcome.writeFailed);
    }, (error: unknown) => {
      this.failure ??= error;
    });
  }

  /** Waits for every job handed over; throws the first failure. */
  private async settled(): Promise<void> {
    const jobs = this.jobs.splice(0);
    await Promise.allSettled(jobs);
    // In the order asked for: the two threads answer in any order.
    const failures = this.copyFailures.sort((a, b) => a.order - b.order).map(({ path, reason }) => ({ path, reason }));
    this.failure ??= failures.length > 0 ? new CheckedCopyFailed(failures) : undefined;
    if (this.failure !== undefined) {
      throw this.failure instanceof ImageError ? this.failure : new ImageError('output.digest', `Cannot hash the output: ${String(this.failure)}`);
    }
  }
}
