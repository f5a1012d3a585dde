/**
 * The engine behind the compressing sinks: the input is cut into chunks of a fixed size
 * (by byte count, never by how the caller split its writes), each chunk is compressed on
 * its own into one self-contained gzip member or zstd frame, several chunks at a time on
 * other threads, and the results are written to the target in input order. Because
 * every chunk is compressed independently with fixed parameters, the output depends only
 * on the input bytes, the level and the chunk size: not on the number of threads, the
 * timing, or the sizes of the writes.
 *
 * Memory is bounded: at most `depth` chunks are in flight, and their buffers are reused.
 * A write resolves once its bytes are copied into a chunk; it waits first when `depth`
 * chunks are already being compressed, which is the backpressure.
 */
import { ImageError, UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';

/** Compresses chunks into self-contained members/frames that concatenate into a valid stream. */
export interface ChunkCodec {
  /**
   * Compresses `buffer[0, length)`. The codec owns `buffer` until the promise settles and
   * hands it back (possibly as a new view of the same memory, when it crossed a thread)
   * with the compressed bytes.
   */
  compress(buffer: Uint8Array, length: number): Promise<{ readonly output: Uint8Array; readonly buffer: Uint8Array }>;
  /** Releases threads or other resources; no compress calls follow. */
  close(): Promise<void>;
}

/** A ByteSink that compresses into another ByteSink. */
export interface CompressingSink extends ByteSink {
  /** Compressed bytes written to the target so far. */
  readonly compressedPosition: number;
  /**
   * Writes out every chunk (an empty input still gives one empty member/frame, so the
   * result is a valid compressed file), then closes the target.
   */
  close(): Promise<void>;
  /**
   * Stops without writing anything more and releases the threads; for failures and
   * cancellation. The target is left as it is (the caller aborts its OutputFile).
   */
  abort(): Promise<void>;
}

export interface ChunkedSinkOptions {
  readonly chunkSize: number;
  /** Chunks being compressed at once. */
  readonly depth: number;
  /** Names the compressor in error messages ("gzip", "zstd"). */
  readonly name: string;
}

interface Job {
  readonly result: Promise<{ readonly output: Uint8Array; readonly buffer: Uint8Array }>;
}

export function chunkedSink(target: ByteSink, codec: ChunkCodec, options: ChunkedSinkOptions): CompressingSink {
  const { chunkSize, depth, name } = options;
  const spare: Uint8Array[] = [];
  const queue: Job[] = [];
  let chunk: Uint8Array | undefined;
  let used = 0;
  let position = 0;
  let compressedPosition = 0;
  let chunks = 0;
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
    const { output, buffer } = await job.result;
    if (spare.length < depth) spare.push(buffer);
    await target.write(output);
    compressedPosition += output.length;
  };

  const submit = async (): Promise<void> => {
    const buffer = chunk ?? new Uint8Array(0);
    const length = used;
    chunk = undefined;
    used = 0;
    chunks++;
    const result = codec.compress(buffer, length);
    result.catch(() => undefined); // surfaced when the job is settled, never as an unhandled rejection
    queue.push({ result });
    while (queue.length >= depth) await settleOldest();
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
          chunk ??= spare.pop() ?? new Uint8Array(chunkSize);
          const take = Math.min(chunkSize - used, data.length - at);
          chunk.set(data.subarray(at, at + take), used);
          used += take;
          at += take;
          position += take;
          if (used === chunkSize) await submit();
        }
      });
    },
    async close() {
      ensureOpen();
      state = 'closing';
      await guarded(async () => {
        if (used > 0 || chunks === 0) await submit();
        while (queue.length > 0) await settleOldest();
        await codec.close();
        await target.close();
        state = 'closed';
      });
    },
    async abort() {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      queue.length = 0;
      chunk = undefined;
      spare.length = 0;
      await codec.close().catch(() => undefined);
    },
  };
}

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
