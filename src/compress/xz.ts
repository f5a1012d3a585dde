/**
 * Parallel, deterministic xz as a ByteSink. The input is cut into blocks of a fixed size
 * (by default three dictionaries, as `xz -T` cuts them), or where its content says
 * (content-cuts.ts, for outputs the unit cache keeps); each block is compressed on its
 * own on a pool of worker threads, or found in the cache by its content, and written in
 * order between one stream header and the index, so the file is one .xz stream that
 * `xz -t`, `xz -l` and the kernel read, and that xz decompresses block by block. The bytes
 * depend only on the input, the preset, the dictionary and the block size or cut rule,
 * not on the number of threads, the cache or the write sizes.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import type { UnitCache } from '../core/unit-cache.js';
import { CacheReadMemory, cachedUnit } from './cached-unit.js';
import { transferableBuffer, WorkerPool } from '../core/worker-pool.js';
import { checkChunkSize, checkThreads, chunkedSink, type ChunkCodec, type CompressingSink } from './chunked-sink.js';
import { contentCutsAround } from './content-cuts.js';
import { lzmaEncoderVersion, XZ_DEFAULT_PRESET } from './lzma2.js';
import { lzma2DictionaryProperty, lzma2DictionarySize, xzStreamEnd, xzStreamHeader, type XzBlockRecord } from './xz-container.js';
import type { XzJob, XzResult } from './xz-worker.js';

export interface XzSinkOptions {
  /** xz's presets 0 to 9; default 6, xz's default. */
  readonly preset?: number;
  /** LZMA2 dictionary in bytes; default 8 MiB (xz -6). Part of the output's identity. */
  readonly dictionarySize?: number;
  /** Input bytes per block; default three dictionaries, as xz -T. Part of the output's identity. */
  readonly blockSize?: number;
  /** Blocks compressed at once; default the number of cores. Does not change the output. */
  readonly threads?: number;
  /**
   * 'content': blocks end where the content says (content-cuts.ts), from half to one and a
   * half times blockSize, so a change leaves the other blocks as they were; default
   * 'fixed', every blockSize bytes as `xz -T`. Part of the output's identity.
   */
  readonly boundaries?: 'fixed' | 'content';
  /** Blocks looked up by their content before compressing, and stored after (`--cache`); never changes the bytes. */
  readonly cache?: UnitCache | undefined;
}

export const XZ_DEFAULT_DICTIONARY = 8 << 20;
/** Bytes of cached blocks that may wait behind a block being compressed. */
const XZ_CACHE_WAITING = 256 << 20;
const WORKER_URL = new URL('./xz-worker.js', import.meta.url);

/**
 * Compresses everything written to the returned sink into `target` as one .xz stream.
 * `close()` finishes the stream and closes `target`; `abort()` stops without finishing it.
 */
export function xzSink(target: ByteSink, options: XzSinkOptions = {}): CompressingSink {
  for (const key of Object.keys(options)) {
    if (!['preset', 'dictionarySize', 'blockSize', 'threads', 'boundaries', 'cache'].includes(key)) {
      throw new UsageError('xz.unknown-option', `Cannot use xz option "${key}": expected preset, dictionarySize, blockSize, threads, boundaries or cache`);
    }
  }
  const preset = options.preset ?? XZ_DEFAULT_PRESET;
  if (!Number.isInteger(preset) || preset < 0 || preset > 9) {
    throw new UsageError('xz.preset', `Cannot use xz preset ${preset}: expected a whole number from 0 to 9`, { hint: '6 is xz\'s default' });
  }
  const dictionarySize = options.dictionarySize ?? XZ_DEFAULT_DICTIONARY;
  if (!Number.isInteger(dictionarySize) || dictionarySize < 4096 || dictionarySize > 1 << 30
    || lzma2DictionarySize(lzma2DictionaryProperty(dictionarySize)) !== dictionarySize) {
    throw new UsageError('xz.dictionary', `Cannot use xz dictionary size ${dictionarySize}: expected 2^n or 3 * 2^n bytes from 4 KiB to 1 GiB`);
  }
  const blockSize = checkChunkSize('xz', options.blockSize ?? Math.min(3 * dictionarySize, 1 << 26));
  const threads = checkThreads('xz', options.threads ?? availableParallelism());
  const pool = new WorkerPool<XzJob, XzResult>({ url: WORKER_URL, size: threads, errorCode: 'xz.failed', action: 'Cannot compress with xz' });

  const cuts = options.boundaries === 'content' ? contentCutsAround(blockSize) : undefined;
  const { cache } = options;
  const settings = `xz-block 2 preset ${preset} dictionary ${dictionarySize} lzma ${lzmaEncoderVersion()} zstd ${process.versions.zstd}`;

  const memory = new CacheReadMemory();
  /** The block of one chunk: from the cache, or compressed on the pool (and then stored in the cache). */
  const compressBlock = async (buffer: Uint8Array, length: number): Promise<{ block: Uint8Array; record: XzBlockRecord; buffer: Uint8Array }> => {
    let back = buffer;
    // A cache entry is the block's unpadded size (8 bytes, little-endian) then the block.
    const entry = await cachedUnit(cache, 'xz block', settings, [buffer.subarray(0, length)], async () => {
      const plain = transferableBuffer(buffer);
      const reply = await pool.run((id) => ({ id, buffer: plain, length, preset, dictionarySize }), [plain]);
      back = new Uint8Array(reply.buffer);
      const made = new Uint8Array(8 + reply.block.length);
      const view = new DataView(made.buffer);
      view.setUint32(0, reply.record.unpaddedSize % 2 ** 32, true);
      view.setUint32(4, Math.floor(reply.record.unpaddedSize / 2 ** 32), true);
      made.set(reply.block, 8);
      return made;
    }, memory);
    const view = new DataView(entry.buffer, entry.byteOffset, 8);
    const record = { unpaddedSize: view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32, uncompressedSize: length };
    return { block: entry.subarray(8), record, buffer: back };
  };

  // Called once per block in input order: the index needs every block's record, in order.
  const records: Promise<XzBlockRecord>[] = [];
  let first = true;
  const codec: ChunkCodec = {
    compress: async (buffer, length, last) => {
      const head = first ? xzStreamHeader() : new Uint8Array(0);
      first = false;
      let block: Uint8Array = new Uint8Array(0);
      let back = buffer;
      if (length > 0) {
        const result = compressBlock(buffer, length);
        const record = result.then((r) => r.record);
        record.catch(() => undefined); // an abort rejects it; the compress call reports the failure
        records.push(record);
        const reply = await result;
        block = reply.block;
        back = reply.buffer;
      }
      const end = last ? xzStreamEnd(await Promise.all(records)) : new Uint8Array(0);
      if (head.length === 0 && end.length === 0) return { output: block, buffer: back };
      const output = new Uint8Array(head.length + block.length + end.length);
      output.set(head, 0);
      output.set(block, head.length);
      output.set(end, head.length + block.length);
      memory.giveBackViewOf(block);
      return { output, buffer: back };
    },
    // Written: the memory a cache entry was read into is read into again.
    recycle: (output) => {
      memory.giveBackViewOf(output);
    },
    close: () => pool.close(),
  };
  // With the cache, blocks found in it wait (as their small output) behind one being
  // compressed, so that the next block it lacks, often far ahead, is compressed meanwhile.
  return chunkedSink(target, codec, { chunkSize: blockSize, cuts, depth: threads * 2, name: 'xz', waitingBytes: cache === undefined ? undefined : XZ_CACHE_WAITING });
}
