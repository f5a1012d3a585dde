/**
 * Parallel, deterministic gzip (RFC 1952) as a ByteSink, written as ONE ordinary gzip
 * member the way pigz does it. The input is cut into chunks of a fixed size; each chunk is
 * raw-deflated by node:zlib on the libuv thread pool, several at once, with the previous
 * chunk's last 32 KiB as its preset dictionary, and ends with a sync flush (byte-aligned,
 * not final) or, for the last chunk, with the final block. The pieces are written in input
 * order between one 10-byte header and one CRC-32/ISIZE trailer, so the file is a single
 * DEFLATE stream: what every reader accepts, including single-member ones (zlib's
 * `inflate`, some firmware and cloud importers), not only those that read concatenated
 * members.
 *
 * The header has mtime 0, no name and OS 3 (Unix), so the bytes depend only on the input,
 * the level and the chunk size (for one zlib build), not on the thread count or the write
 * sizes. Parallelism is bounded by `threads` and by the libuv thread pool (4 threads unless
 * UV_THREADPOOL_SIZE is set before the pool is first used).
 */
import { availableParallelism } from 'node:os';
import { crc32, crc32Combine } from '../core/checksum.js';
import { UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import { UnitCache } from '../core/unit-cache.js';
import { AnticipationThread } from './anticipation.js';
import { CacheReadMemory, cachedUnit } from './cached-unit.js';
import { contentCutsAround } from './content-cuts.js';
import { deflatePiece, DESCRIBED_ENTRY_HEADER, describedEntryHeader } from './deflate-piece.js';
import { checkChunkSize, checkThreads, chunkedSink, type ChunkCodec, type CompressingSink } from './chunked-sink.js';

export interface GzipSinkOptions {
  /** zlib level 1 (fastest) to 9 (smallest), or 0 (stored); default 6, as gzip's. */
  readonly level?: number;
  /** Input bytes per parallel piece; default 1 MiB. Part of the output's identity. */
  readonly chunkSize?: number;
  /** Chunks deflated at once; default the number of cores. Does not change the output. */
  readonly threads?: number;
  /**
   * 'content': pieces end where the content says (content-cuts.ts), from half to one and a
   * half times chunkSize, so a change leaves the other pieces as they were (their preset
   * dictionary too, from the 32 KiB before them); default 'fixed', every chunkSize bytes as
   * pigz. Part of the output's identity.
   */
  readonly boundaries?: 'fixed' | 'content';
  /** Pieces looked up by their content and dictionary before deflating, and stored after (`--cache`); never changes the bytes. */
  readonly cache?: UnitCache | undefined;
}

export const GZIP_DEFAULT_LEVEL = 6;
export const GZIP_DEFAULT_CHUNK = 1 << 20;

/** DEFLATE's window: the most a chunk can refer back into the previous one. */
const DICTIONARY = 32 * 1024;

/**
 * Compresses everything written to the returned sink into `target` as one gzip member.
 * `close()` finishes the stream and closes `target`; `abort()` stops without finishing it.
 */
export function gzipSink(target: ByteSink, options: GzipSinkOptions = {}): CompressingSink {
  for (const key of Object.keys(options)) {
    if (!['level', 'chunkSize', 'threads', 'boundaries', 'cache'].includes(key)) {
      throw new UsageError('gzip.unknown-option', `Cannot use gzip option "${key}": expected level, chunkSize, threads, boundaries or cache`);
    }
  }
  const level = options.level ?? GZIP_DEFAULT_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new UsageError('gzip.level', `Cannot use gzip level ${level}: expected a whole number from 0 to 9`, { hint: '6 is gzip\'s default' });
  }
  const chunkSize = checkChunkSize('gzip', options.chunkSize ?? GZIP_DEFAULT_CHUNK);
  const threads = checkThreads('gzip', options.threads ?? availableParallelism());
  const cuts = options.boundaries === 'content' ? contentCutsAround(chunkSize) : undefined;
  const { cache } = options;
  const settings = `gzip-piece 1 level ${level} zlib ${process.versions.zlib}`;

  // The codec is called once per chunk, in input order, on this thread: the running CRC,
  // the size and the dictionary are updated here; only the deflate runs on the pool.
  let crc = 0;
  let size = 0;
  let dictionary: Uint8Array | undefined;
  let first = true;
  /** Decides, in input order, what goes around a piece: the stream's header before the first, the trailer after the last. */
  const frame = (last: boolean): (bytes: Uint8Array) => Uint8Array => {
    const prefix = first ? header(level) : undefined;
    const suffix = last ? trailer(crc, size) : undefined;
    first = false;
    return (bytes) => (prefix === undefined && suffix === undefined ? bytes
      : Buffer.concat([prefix ?? new Uint8Array(0), bytes, suffix ?? new Uint8Array(0)]));
  };
  const describedKey = (description: Uint8Array): Buffer => UnitCache.key(`${settings} described`, description);
  /** Keeps a described span's piece (deflated with no dictionary) with its CRC-32 and length under its description. */
  const storeDescribed = (description: Uint8Array, pieceCrc: number, length: number, bytes: Uint8Array): void => {
    cache?.put(describedKey(description), { kind: 'compressed', bytes: Buffer.concat([describedEntryHeader(pieceCrc, length), bytes]) });
  };
  const memory = new CacheReadMemory();
  const codec: ChunkCodec = {
    // Written: the memory a cache entry was read into is read into again.
    recycle: (output) => {
      memory.giveBackViewOf(output);
    },
    compress: (buffer, length, last, description) => {
      const data = buffer.subarray(0, length);
      size += length;
      if (description !== undefined) {
        // A described span: deflated with no dictionary, and none for the piece after it,
        // so its bytes depend on it alone; kept with its CRC-32 under its description.
        const pieceCrc = crc32(data);
        crc = crc32Combine(crc, pieceCrc, length);
        dictionary = undefined;
        const framed = frame(false);
        return deflatePiece(data, level, false, undefined).then((bytes) => {
          storeDescribed(description, pieceCrc, length, bytes);
          return { output: framed(bytes), buffer };
        });
      }
      crc = crc32(data, crc);
      const preset = dictionary;
      // A copy: the buffer goes back to the engine for reuse once this chunk is written.
      dictionary = length >= DICTIONARY ? data.slice(length - DICTIONARY) : undefined;
      const framed = frame(last);
      return cachedUnit(cache, 'gzip piece', `${settings} ${last ? 'final' : 'sync'}`, preset === undefined ? [data] : [preset, data],
        () => deflatePiece(data, level, last, preset), memory).then((bytes) => {
        const output = framed(bytes);
        if (output !== bytes) memory.giveBackViewOf(bytes); // copied between the stream's header and trailer
        return { output, buffer };
      });
    },
    close: async () => undefined,
  };
  let ahead: AnticipationThread | undefined;
  if (cuts !== undefined && cache !== undefined) {
    codec.anticipate = (description) => {
      const key = describedKey(description);
      return cache.has(key) ? undefined : (part) => (ahead ??= new AnticipationThread()).makeEntry(part, { kind: 'deflate', level }, cache, key);
    };
    codec.close = async () => ahead?.close();
  }
  if (cuts !== undefined) {
    /** Joins a cached piece of a described span to the stream by its entry's head (CRC-32 and length); false when the head is not the span's. */
    const joinDescribed = (head: Uint8Array, length: number): boolean => {
      if (head.length < DESCRIBED_ENTRY_HEADER) return false;
      const view = new DataView(head.buffer, head.byteOffset, DESCRIBED_ENTRY_HEADER);
      if (view.getFloat64(4, true) !== length) return false;
      crc = crc32Combine(crc, view.getUint32(0, true), length);
      size += length;
      dictionary = undefined;
      return true;
    };
    codec.place = (description, length, ranges) => {
      if (cache === undefined) return undefined;
      if (ranges && !first) {
        // Only the entry's head is read here; the target copies the piece itself, checked,
        // on another thread.
        const found = cache.head(describedKey(description), 'gzip described span', DESCRIBED_ENTRY_HEADER);
        return found !== undefined && joinDescribed(found.head, length) ? found.rest : undefined;
      }
      const entry = memory.get(cache, describedKey(description), 'gzip described span');
      if (entry === undefined) return undefined;
      if (!joinDescribed(entry, length)) {
        memory.giveBackViewOf(entry);
        return undefined;
      }
      const piece = entry.subarray(DESCRIBED_ENTRY_HEADER);
      const output = frame(false)(piece);
      if (output !== piece) memory.giveBackViewOf(piece); // copied behind the stream's header
      return output;
    };
  }
  return chunkedSink(target, codec, { chunkSize, cuts, depth: threads * 8, name: 'gzip' });
}

/** Magic, deflate, no flags, mtime 0, zlib's extra flags for the level, OS 3 (Unix). */
function header(level: number): Uint8Array {
  const xfl = level === 9 ? 2 : level < 2 ? 4 : 0; // as zlib writes them: 2 slowest, 4 fastest
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3);
}

/** CRC-32 and size modulo 2^32 of the uncompressed data, little-endian. */
function trailer(crc: number, size: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, crc >>> 0, true);
  view.setUint32(4, size % 2 ** 32, true);
  return bytes;
}

