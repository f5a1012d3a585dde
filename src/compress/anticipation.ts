/**
 * Making a rebuild's new data first: as the layout's walk lists the closure's files, the
 * parts of large files that are spans of their own (core/described-spans.ts loneParts) and
 * that the cache lacks go to the compressing sink to be made ahead, on a thread of their
 * own, while the walk and the layout go on. What a changed store path brings is then
 * compressed by the time the stream reaches it, instead of at the end of an otherwise
 * cached stream.
 */
import { loneParts, SPLIT, type FileIdentity, type FilePart } from '../core/described-spans.js';
import type { UnitCache } from '../core/unit-cache.js';
import { TakeBackWorker, type TakeBackJob } from '../core/take-back-worker.js';
import type { AnticipatedCodec, AnticipationJob, AnticipationResult } from './anticipation-job.js';
import type { CompressingSink } from './chunked-sink.js';

const WORKER_URL = new URL('./anticipation-worker.js', import.meta.url);

/**
 * One thread that reads and compresses parts of store files ahead of the stream, one at a
 * time in the order given: one thread only, so the walk that asks for them keeps a core.
 * It writes each part's cache entry itself, so the compressed bytes never reach the
 * stream's thread (which finds them in the cache). A part the thread has not started can
 * be taken back.
 */
export class AnticipationThread {
  private readonly worker = new TakeBackWorker<AnticipationJob, AnticipationResult>(WORKER_URL, 'compress.ahead-failed', 'Cannot compress ahead');

  /** Makes `part` as `codec` does and keeps it in `cache` under `key`; settles once it is there (or is not: taken back, failed, writing off). */
  makeEntry(part: FilePart, codec: AnticipatedCodec, cache: UnitCache, key: Buffer): TakeBackJob<void> {
    const temporary = cache.reserve(key);
    if (temporary === undefined) return { done: Promise.resolve(undefined), takeBack: () => true };
    const made = this.worker.run((claim) => ({ ...claim, part, codec, entry: { temporary, key } }), (reply) => reply);
    return {
      done: made.done.then((reply) => cache.adopt(key, temporary, reply?.written)),
      takeBack: made.takeBack,
    };
  }

  close(): Promise<void> {
    return this.worker.close();
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
