/**
 * Parallel, deterministic zstd (RFC 8878) as a ByteSink, with Node's own zstd
 * (`node:zlib`, the reference library). The input is cut into chunks of a fixed size;
 * each becomes one independent zstd frame (content size in its header, and by default an
 * XXH64 content checksum as the zstd command line writes), compressed on a pool of worker
 * threads, one per core; the frames are written in order. Workers rather than zlib's
 * asynchronous calls: those hand every output piece back to this thread and gather the
 * frame here, which made this thread the bottleneck (docs/formats/compression.md). Concatenated frames are one
 * valid zstd stream: `zstd -t`, `zstd -dc` and `vma`'s restore pipeline read them.
 *
 * The bytes depend only on the input, the level, the chunk size and the checksum setting
 * (and the zstd library of the Node release), not on the number of threads or the write
 * sizes.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import { UnitCache } from '../core/unit-cache.js';
import { transferableBuffer, WorkerPool } from '../core/worker-pool.js';
import { checkChunkSize, checkThreads, chunkedSink, type ChunkCodec, type CompressingSink } from './chunked-sink.js';
import { AnticipationThread } from './anticipation.js';
import { CacheReadMemory, cachedUnit } from './cached-unit.js';
import { contentCutsAround } from './content-cuts.js';
import { zstdFrameBound } from './zstd-frame.js';
import type { ZstdJob, ZstdResult } from './zstd-worker.js';

export interface ZstdSinkOptions {
  /** zstd level 1 to 19; default 3, the zstd command line's default (and so vzdump's). */
  readonly level?: number;
  /** Input bytes per zstd frame; default 1 MiB (faster than larger frames: buffers stay in cache). Part of the output's identity. */
  readonly chunkSize?: number;
  /** Chunks compressed at once; default the number of cores. Does not change the output. */
  readonly threads?: number;
  /** Append each frame's XXH64 content checksum, as `zstd` does by default; default true. */
  readonly checksum?: boolean;
  /**
   * 'content': frames end where the content says (content-cuts.ts), from half to one and a
   * half times chunkSize, so a change leaves the other frames as they were; default 'fixed',
   * every chunkSize bytes. Part of the output's identity.
   */
  readonly boundaries?: 'fixed' | 'content';
  /** Frames looked up by their content before compressing, and stored after (`--cache`); never changes the bytes. */
  readonly cache?: UnitCache | undefined;
}

export const ZSTD_DEFAULT_LEVEL = 3;
export const ZSTD_DEFAULT_CHUNK = 1 << 20;

const WORKER_URL = new URL('./zstd-worker.js', import.meta.url);

/**
 * The zstd workers plus the output buffers they write frames into. Input and output
 * buffers go to a worker and come back; the sink reuses both, so a long stream allocates
 * nothing after its first chunks.
 */
class ZstdPool {
  private readonly pool: WorkerPool<ZstdJob, ZstdResult>;
  /** Output buffers of frameBound bytes, handed back once their frame is written. */
  private readonly outputs: ArrayBuffer[] = [];
  private readonly frameBound: number;

  constructor(size: number, private readonly level: number, private readonly checksum: boolean,
    chunkSize: number, private readonly keepOutputs: number) {
    this.frameBound = zstdFrameBound(chunkSize);
    this.pool = new WorkerPool({ url: WORKER_URL, size, errorCode: 'zstd.failed', action: 'Cannot compress with zstd' });
  }

  /** Takes back the memory of a frame the sink has written. */
  recycle(frame: Uint8Array): void {
    if (frame.byteOffset === 0 && frame.buffer.byteLength === this.frameBound && this.outputs.length < this.keepOutputs) this.outputs.push(frame.buffer as ArrayBuffer);
  }

  async compress(buffer: Uint8Array, length: number): Promise<{ output: Uint8Array; buffer: Uint8Array }> {
    const plain = transferableBuffer(buffer);
    // A chunk is never longer than chunkSize, so frameBound bytes always hold its frame.
    const output = this.outputs.pop() ?? new ArrayBuffer(this.frameBound);
    const reply = await this.pool.run((id) => ({ id, buffer: plain, length, output, level: this.level, checksum: this.checksum }), [plain, output]);
    return { output: new Uint8Array(reply.output, 0, reply.frameLength), buffer: new Uint8Array(reply.buffer) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Compresses everything written to the returned sink into `target` as zstd. `close()`
 * finishes the stream and closes `target`; `abort()` stops without finishing it.
 */
export function zstdSink(target: ByteSink, options: ZstdSinkOptions = {}): CompressingSink {
  for (const key of Object.keys(options)) {
    if (!['level', 'chunkSize', 'threads', 'checksum', 'boundaries', 'cache'].includes(key)) {
      throw new UsageError('zstd.unknown-option', `Cannot use zstd option "${key}": expected level, chunkSize, threads, checksum, boundaries or cache`);
    }
  }
  const level = options.level ?? ZSTD_DEFAULT_LEVEL;
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new UsageError('zstd.level', `Cannot use zstd level ${level}: expected a whole number from 1 to 19`, { hint: '3 is zstd\'s default' });
  }
  const checksum = options.checksum ?? true;
  if (typeof checksum !== 'boolean') {
    throw new UsageError('zstd.checksum', `Cannot use zstd checksum "${String(checksum)}": expected true or false`);
  }
  const chunkSize = checkChunkSize('zstd', options.chunkSize ?? ZSTD_DEFAULT_CHUNK);
  const threads = checkThreads('zstd', options.threads ?? availableParallelism());
  const depth = threads * 8;
  const cuts = options.boundaries === 'content' ? contentCutsAround(chunkSize) : undefined;
  const pool = new ZstdPool(threads, level, checksum, cuts?.maximum ?? chunkSize, depth);
  const { cache } = options;
  const settings = `zstd-frame 1 level ${level} checksum ${checksum} zstd ${process.versions.zstd}`;
  const memory = new CacheReadMemory();
  const describedKey = (description: Uint8Array): Buffer => UnitCache.key(`${settings} described`, description);
  const codec: ChunkCodec = {
    compress: async (buffer, length, _last, description) => {
      if (cache === undefined) return pool.compress(buffer, length);
      if (description !== undefined) {
        // A described span's frame is kept under its description (frames are independent).
        const reply = await pool.compress(buffer, length);
        cache.put(describedKey(description), { kind: 'compressed', bytes: reply.output });
        return reply;
      }
      let back = buffer;
      const output = await cachedUnit(cache, 'zstd frame', settings, [buffer.subarray(0, length)], async () => {
        const reply = await pool.compress(buffer, length);
        back = reply.buffer;
        return reply.output;
      }, memory);
      return { output, buffer: back };
    },
    // Written: a frame's memory (the pool's output, or what a cache entry was read into) is used again.
    recycle: (output) => {
      if (!memory.giveBackViewOf(output)) pool.recycle(output);
    },
    close: () => pool.close(),
  };
  if (cuts !== undefined && cache !== undefined) {
    let ahead: AnticipationThread | undefined;
    codec.anticipate = (description) => {
      const key = describedKey(description);
      return cache.has(key) ? undefined : (part) => (ahead ??= new AnticipationThread()).makeEntry(part, { kind: 'zstd', level, checksum }, cache, key);
    };
    codec.close = async () => {
      await Promise.all([pool.close(), ahead?.close()]);
    };
  }
  if (cuts !== undefined) {
    codec.place = (description) => (cache === undefined ? undefined : memory.get(cache, describedKey(description), 'zstd described span'));
  }
  return chunkedSink(target, codec, { chunkSize, cuts, depth, name: 'zstd' });
}
