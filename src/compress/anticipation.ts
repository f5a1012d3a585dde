/**
 * Making a rebuild's new data first: as the layout's walk lists the closure's files, the
 * parts of large files that are spans of their own (core/described-spans.ts loneParts) and
 * that the cache lacks go to the compressing sink to be made ahead, on a thread of their
 * own, while the walk and the layout go on. What a changed store path brings is then
 * compressed by the time the stream reaches it, instead of at the end of an otherwise
 * cached stream.
 */
import { loneParts, SPLIT, type FileIdentity, type FilePart } from '../core/described-spans.js';
import { ImageError } from '../core/errors.js';
import { WorkerPool } from '../core/worker-pool.js';
import { CLAIM, type AnticipatedCodec, type AnticipationJob, type AnticipationResult } from './anticipation-job.js';
import type { CompressingSink } from './chunked-sink.js';

const WORKER_URL = new URL('./anticipation-worker.js', import.meta.url);
/** Jobs handed to the thread and not yet answered, at most. */
const SLOTS = 256;

/** A part being made ahead. */
export interface Anticipation {
  /** Settles when the part is made (its bytes), taken back or failed (undefined). */
  readonly done: Promise<{ readonly bytes: Uint8Array; readonly crc: number } | undefined>;
  /** Takes the job back if the thread has not started it: true, and it will not be made; false once started. */
  takeBack(): boolean;
}

/**
 * One thread that reads and compresses parts of store files ahead of the stream, one at a
 * time in the order given: one thread only, so the walk that asks for them keeps a core.
 * Jobs are handed over at once (a busy main thread could not hand them one by one), and
 * each can be taken back until the thread starts it: a shared word per job says which of
 * the two claimed it first.
 */
export class AnticipationThread {
  private readonly pool = new WorkerPool<AnticipationJob, AnticipationResult>({ url: WORKER_URL, size: 1, errorCode: 'compress.ahead-failed', action: 'Cannot compress ahead' });
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  private readonly free = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i);

  make(part: FilePart, codec: AnticipatedCodec): Anticipation {
    const slot = this.free.pop();
    if (slot === undefined) throw new ImageError('compress.ahead-slots', `Internal error: more than ${SLOTS} parts handed to be compressed ahead at once`);
    const { claims } = this;
    Atomics.store(claims, slot, CLAIM.queued);
    const done = this.pool.run((id) => ({ id, part, codec, claims: claims.buffer as SharedArrayBuffer, slot }))
      .then((result) => (result.length < 0 ? undefined : { bytes: new Uint8Array(result.bytes, 0, result.length), crc: result.crc }), () => undefined)
      .finally(() => this.free.push(slot));
    return { done, takeBack: () => Atomics.compareExchange(claims, slot, CLAIM.queued, CLAIM.takenBack) === CLAIM.queued };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Tells `sink` (one that anticipates) of each lone part of the store files a walk lists, once per file. */
export function anticipateLoneParts(sink: CompressingSink, identify: FileIdentity): (path: string, size: number) => void {
  const { anticipate, spanRule } = sink;
  if (anticipate === undefined || spanRule === undefined) return () => undefined;
  const seen = new Set<string>();
  return (path, size) => {
    if (size < 2 * SPLIT || seen.has(path)) return;
    seen.add(path);
    const identity = identify(path);
    if (identity === undefined) return;
    for (const part of loneParts(identity, size, spanRule)) {
      anticipate(part.description, { path, size, offset: part.fileOffset, length: SPLIT });
    }
  };
}
