/**
 * The engine behind the compressing sinks: the input is cut into chunks of a fixed size,
 * or where its content says (content-cuts.ts), never by how the caller split its writes;
 * each chunk is compressed by a codec, several chunks at a time on other threads, and the
 * results are written to the target in input order. A chunk's compression may depend on the input before it (gzip
 * primes it with the previous 32 KiB) but never on another chunk's output, so the chunks
 * compress in parallel. Every chunk is compressed with fixed parameters, so the output
 * depends only on the input bytes, the level and the chunk size or cut rule: not on the number of
 * threads, the timing, or the sizes of the writes.
 *
 * A full (or cut) chunk is handed to the codec only once the next byte arrives (or at close), so the
 * codec is told which chunk is the last: exactly one call has `last` set, also for an
 * empty input (one empty chunk).
 *
 * Memory is bounded: at most `depth` chunks are being compressed, and their buffers are
 * reused; finished chunks waiting to be written in order hold at most `waitingBytes` of
 * output. A write resolves once its bytes are copied into a chunk; it waits first when
 * either bound is reached, which is the backpressure.
 */
import { ImageError, UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import type { DescribedSpanRule, FilePart } from '../core/described-spans.js';
import type { CheckedRange } from '../core/checked-copy.js';
import { AheadQueue } from '../core/take-back-worker.js';
import { ContentCuts, type ContentCutOptions } from './content-cuts.js';

/** Compresses chunks into pieces whose concatenation, in input order, is a valid stream. */
export interface ChunkCodec {
  /**
   * Compresses `buffer[0, length)`, the next chunk: calls are made in input order (their
   * promises overlap); `last` is set on the final chunk only. The codec owns `buffer`
   * until the promise settles and hands it back (possibly as a new view of the same
   * memory, when it crossed a thread) with the compressed bytes.
   */
  compress(buffer: Uint8Array, length: number, last: boolean, description?: Uint8Array): Promise<{ readonly output: Uint8Array; readonly buffer: Uint8Array }>;
  /**
   * For a codec that can take described spans (described-spans.ts): the compressed bytes
   * of the next `length` input bytes, which `description` names, from its cache, or
   * undefined (they will come to compress() with the description). Called in input order
   * with compress(); the chunk before it has been handed over. With `ranges` (the target
   * can copy), the bytes may be given as a checked range of a cache entry instead, for the
   * target to copy without this thread reading them.
   */
  place?(description: Uint8Array, length: number, ranges: boolean): Uint8Array | CheckedRange | undefined;
  /** Hands back a compress call's output once it is written, for the codec to reuse its memory. */
  recycle?(output: Uint8Array): void;
  /**
   * For a codec with a cache: how to make the described span `description` names ahead of
   * the stream (compress its bytes and store them, so place() finds them), or undefined
   * when the cache has it already or there is no cache.
   */
  anticipate?(description: Uint8Array): ((part: FilePart) => Anticipated) | undefined;
  /** Releases threads or other resources; no compress calls follow. */
  close(): Promise<void>;
}

/** A described span a codec is making ahead of the stream. */
export interface Anticipated {
  /** Settles once the span is stored in the cache, or will not be (taken back, failed). */
  readonly done: Promise<void>;
  /** Takes the span back if it was not started: true, and it will not be made; false once started. */
  takeBack(): boolean;
}

/** A ByteSink that compresses into another ByteSink. */
export interface CompressingSink extends ByteSink {
  /** Compressed bytes written to the target so far. */
  readonly compressedPosition: number;
  /**
   * Writes out every chunk (an empty input still gives a valid compressed file: an empty
   * gzip member, an empty zstd frame), then closes the target.
   */
  close(): Promise<void>;
  /**
   * Stops without writing anything more and releases the threads; for failures and
   * cancellation. The target is left as it is (the caller aborts its OutputFile).
   */
  abort(): Promise<void>;
  /**
   * Present when the sink takes described spans: the next `length` bytes (at most
   * `spanRule.maximum`) are the span `description` names, a unit of their own. Resolves
   * true when the sink wrote them from its cache (the caller skips them), false when they
   * must follow through write(). Either way the output is the same.
   */
  describe?(length: number, description: Uint8Array): Promise<boolean>;
  /** The rule spans given to describe() must follow: part of the output's identity. */
  readonly spanRule?: DescribedSpanRule;
  /**
   * Present when the sink keeps described spans in a cache: compresses the span
   * `description` names, the bytes of `part`, ahead of the stream and stores it, so that
   * describe() finds it; on another thread, a bounded number at a time, in the order asked.
   * Once the stream reaches a span not made yet, it has caught up: every span not started
   * is taken back and compressed by the stream as usual, and one being made is waited for.
   * Never changes the output; a part that cannot be read is only dropped.
   */
  anticipate?(description: Uint8Array, part: FilePart): void;
}

export interface ChunkedSinkOptions {
  /** Bytes per chunk; with `cuts`, ignored (chunks end where the content says, at most cuts.maximum). */
  readonly chunkSize: number;
  /** Content-defined chunk ends (content-cuts.ts) instead of every chunkSize bytes. */
  readonly cuts?: ContentCutOptions | undefined;
  /** Chunks being compressed at once. */
  readonly depth: number;
  /** Bound on the bytes of finished chunks waiting behind an unfinished one; default `depth` chunks' worth. */
  readonly waitingBytes?: number | undefined;
  /** Names the compressor in error messages ("gzip", "zstd"). */
  readonly name: string;
}

interface Job {
  readonly result: Promise<{ readonly output: Uint8Array | CheckedRange; readonly buffer: Uint8Array }>;
  /** The codec has finished (or failed) this chunk. */
  done: boolean;
}

export function chunkedSink(target: ByteSink, codec: ChunkCodec, options: ChunkedSinkOptions): CompressingSink {
  const { depth, name } = options;
  const capacity = options.cuts?.maximum ?? options.chunkSize;
  const waitingBytes = options.waitingBytes ?? depth * capacity;
  const cutter = options.cuts === undefined ? undefined : new ContentCuts(options.cuts);
  const spare: Uint8Array[] = [];
  const queue: Job[] = [];
  let chunk: Uint8Array | undefined;
  let used = 0;
  /** The chunk being filled has ended (full, or cut): it goes to the codec when the next byte comes. */
  let complete = false;
  let position = 0;
  let compressedPosition = 0;
  /** Chunks the codec has not finished. */
  let compressing = 0;
  /** Bytes of finished chunks' outputs not yet written. */
  let waiting = 0;
  /** Bytes still to come of a described span whose chunk is being filled, and its description. */
  let describedLeft = 0;
  let description: Uint8Array | undefined;
  let wakeUp: (() => void) | undefined;
  /** Described spans asked to be made ahead (by description, hex), and the queue that makes them. */
  const asked = new Set<string>();
  const ahead = new AheadQueue<{ readonly key: string; readonly make: (part: FilePart) => Anticipated; readonly part: FilePart }>(
    ANTICIPATING, (span) => span.key, (span) => span.make(span.part));
  let state: 'open' | 'closing' | 'closed' | 'aborted' | 'failed' = 'open';
  let failure: unknown;

  const ensureOpen = (): void => {
    if (state === 'failed') throw failure;
    if (state !== 'open') {
      throw new ImageError('compress.closed', `Internal error: write to a ${name} sink after it was ${state === 'aborted' ? 'aborted' : 'closed'}`);
    }
  };

  /** Waits for the oldest chunk and writes its compressed bytes to the target. */
  const settleOldest = async (): Promise<void> => {
    const job = queue.shift()!;
    const { output } = await job.result;
    if (output instanceof Uint8Array) {
      waiting -= output.length;
      await target.write(output);
      codec.recycle?.(output);
    } else {
      await target.copy!(output);
    }
    compressedPosition += output.length;
  };

  /**
   * Writes the chunks that are done, in order, and waits while `depth` chunks are being
   * compressed or the done ones held behind an unfinished chunk reach `waitingBytes`.
   * Done chunks hold only their output: after a cache hit (a small output, at once), the
   * chunks after it go on being compressed while an earlier one still is.
   */
  const makeRoom = async (): Promise<void> => {
    for (;;) {
      while (queue.length > 0 && queue[0]!.done) await settleOldest();
      if (compressing < depth && waiting < waitingBytes) return;
      if (waiting >= waitingBytes) {
        await settleOldest();
        continue;
      }
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
      });
      wakeUp = undefined;
    }
  };

  const submit = async (last: boolean, described?: Uint8Array): Promise<void> => {
    const buffer = chunk ?? new Uint8Array(0);
    const length = used;
    chunk = undefined;
    used = 0;
    const job: Job = { result: codec.compress(buffer, length, last, described), done: false };
    compressing++;
    // Registered before any settleOldest awaits the result, so it runs first.
    job.result.then(({ output, buffer: back }) => {
      waiting += output.length;
      if (state !== 'aborted' && state !== 'failed' && spare.length < depth) spare.push(back);
    }, () => undefined).finally(() => {
      job.done = true;
      compressing--;
      wakeUp?.();
    });
    queue.push(job);
    await makeRoom();
  };

  /**
   * Before the stream takes a described span. Made already (or never asked for): nothing
   * to do. Otherwise the stream has caught up with the codec's one thread, and compresses
   * faster itself, on all its threads: every span not started is taken back (and left to
   * the stream), and this one, if it is being made, waited for.
   */
  const settleAnticipation = async (described: Uint8Array): Promise<void> => {
    if (asked.size === 0) return;
    const key = spanKey(described);
    if (asked.has(key)) await ahead.settle(key);
  };

  /** Runs `step`; after a failure the sink only rethrows it and releases the codec. */
  const guarded = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      if (state !== 'aborted') {
        state = 'failed';
        failure = error;
        queue.length = 0;
        ahead.stop();
        await codec.close().catch(() => undefined);
      }
      throw error;
    }
  };

  return {
    get position() {
      return position;
    },
    get compressedPosition() {
      return compressedPosition;
    },
    async write(data) {
      ensureOpen();
      await guarded(async () => {
        let at = 0;
        while (at < data.length) {
          if (describedLeft > 0) {
            // A described span: exactly its bytes make the chunk, wherever the content would cut.
            chunk ??= spare.pop() ?? new Uint8Array(capacity);
            const take = Math.min(describedLeft, data.length - at);
            chunk.set(data.subarray(at, at + take), used);
            used += take;
            at += take;
            position += take;
            describedLeft -= take;
            if (describedLeft === 0) await submit(false, description);
            continue;
          }
          if (complete || used === capacity) {
            complete = false;
            await submit(false); // more bytes follow: this chunk is not the last
          }
          chunk ??= spare.pop() ?? new Uint8Array(capacity);
          let take = Math.min(capacity - used, data.length - at);
          const cut = cutter?.scan(data, at, at + take);
          if (cut !== undefined) {
            take = cut;
            complete = true;
          }
          chunk.set(data.subarray(at, at + take), used);
          used += take;
          at += take;
          position += take;
        }
      });
    },
    async close() {
      ensureOpen();
      if (describedLeft > 0) {
        throw new ImageError('compress.described-short', `Internal error: a ${name} sink closed ${describedLeft} bytes before the end of a described span`);
      }
      state = 'closing';
      ahead.stop();
      await guarded(async () => {
        await submit(true); // the chunk being filled (empty only for an empty input)
        while (queue.length > 0) await settleOldest();
        await ahead.finished();
        await codec.close();
        await target.close();
        state = 'closed';
      });
    },
    ...(codec.place === undefined ? {} : {
      spanRule: { maximum: capacity, minimum: Math.floor(capacity / 3) },
      async describe(length: number, described: Uint8Array): Promise<boolean> {
        ensureOpen();
        let placed = false;
        await guarded(async () => {
          if (describedLeft > 0 || !Number.isSafeInteger(length) || length <= 0 || length > capacity) {
            throw new ImageError('compress.described-span', `Internal error: a ${name} sink cannot take a described span of ${length} bytes here`);
          }
          // The chunk being filled ends here, and the content's cuts start again after the span.
          if (used > 0) await submit(false);
          complete = false;
          cutter?.reset();
          await settleAnticipation(described);
          const output = codec.place!(described, length, target.copy !== undefined);
          if (output === undefined) {
            describedLeft = length;
            description = described;
            return;
          }
          // A range holds no memory here: it is copied by the target.
          if (output instanceof Uint8Array) waiting += output.length;
          queue.push({ result: Promise.resolve({ output, buffer: new Uint8Array(0) }), done: true });
          position += length;
          placed = true;
          await makeRoom();
        });
        return placed;
      },
    }),
    ...(codec.anticipate === undefined ? {} : {
      anticipate(described: Uint8Array, part: FilePart): void {
        if (state !== 'open') return;
        const key = spanKey(described);
        if (asked.has(key)) return;
        const make = codec.anticipate!(described);
        if (make === undefined) return;
        asked.add(key);
        ahead.add([{ key, make, part }]);
      },
    }),
    async abort() {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      queue.length = 0;
      ahead.stop();
      chunk = undefined;
      spare.length = 0;
      await codec.close().catch(() => undefined);
    },
  };
}

/** A described span's description as a key (hex). */
function spanKey(described: Uint8Array): string {
  return Buffer.from(described.buffer, described.byteOffset, described.length).toString('hex');
}

/**
 * Spans handed to be made ahead at once (a MiB each). Set high because the layout's walk,
 * when most are asked for, runs without a break: only those handed over before it ends are
 * made meanwhile.
 */
const ANTICIPATING = 64;

/** Checks a chunk size option: a whole number of bytes from 64 KiB to 64 MiB. */
export function checkChunkSize(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1 << 16 || value > 1 << 26) {
    throw new UsageError('compress.chunk-size', `Cannot use ${name} chunk size ${value}: expected a whole number of bytes from 65536 to 67108864`);
  }
  return value;
}

/** Checks a thread count option: a whole number from 1 to 256. */
export function checkThreads(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 256) {
    throw new UsageError('compress.threads', `Cannot use ${value} ${name} threads: expected a whole number from 1 to 256`);
  }
  return value;
}
