/**
 * Parallel, deterministic zstd (RFC 8878) as a ByteSink, with Node's own zstd
 * (`node:zlib`, the reference library). The input is cut into chunks of a fixed size;
 * each becomes one independent zstd frame (content size in its header, and by default an
 * XXH64 content checksum as the zstd command line writes), compressed on libuv's thread
 * pool, several at a time; the frames are written in order. Concatenated frames are one
 * valid zstd stream: `zstd -t`, `zstd -dc` and `vma`'s restore pipeline read them.
 *
 * The bytes depend only on the input, the level, the chunk size and the checksum setting
 * (and the zstd library of the Node release), not on the number of threads or the write
 * sizes.
 */
import { availableParallelism } from 'node:os';
import { constants, zstdCompress } from 'node:zlib';
import { ImageError, UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import { checkChunkSize, checkThreads, chunkedSink, type ChunkCodec, type CompressingSink } from './chunked-sink.js';

export interface ZstdSinkOptions {
  /** zstd level 1 to 19; default 3, the zstd command line's default (and so vzdump's). */
  readonly level?: number;
  /** Input bytes per zstd frame; default 4 MiB. Part of the output's identity. */
  readonly chunkSize?: number;
  /** Chunks compressed at once; default the number of cores. Does not change the output. */
  readonly threads?: number;
  /** Append each frame's XXH64 content checksum, as `zstd` does by default; default true. */
  readonly checksum?: boolean;
}

export const ZSTD_DEFAULT_LEVEL = 3;
export const ZSTD_DEFAULT_CHUNK = 4 << 20;

/** One chunk into one frame, with the content size in its header. */
function compressFrame(chunk: Uint8Array, level: number, checksum: boolean): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    zstdCompress(chunk, {
      // Without it the streaming encoder leaves the content size out of the header.
      pledgedSrcSize: chunk.length,
      params: {
        [constants.ZSTD_c_compressionLevel]: level,
        [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0,
        [constants.ZSTD_c_contentSizeFlag]: 1,
      },
    }, (error, frame) => {
      if (error === null) resolve(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
      else reject(new ImageError('zstd.failed', `Cannot compress with zstd: ${error.message}`, { cause: error }));
    });
  });
}

/**
 * Compresses everything written to the returned sink into `target` as zstd. `close()`
 * finishes the stream and closes `target`; `abort()` stops without finishing it.
 */
export function zstdSink(target: ByteSink, options: ZstdSinkOptions = {}): CompressingSink {
  for (const key of Object.keys(options)) {
    if (key !== 'level' && key !== 'chunkSize' && key !== 'threads' && key !== 'checksum') {
      throw new UsageError('zstd.unknown-option', `Cannot use zstd option "${key}": expected level, chunkSize, threads or checksum`);
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
  const codec: ChunkCodec = {
    compress: async (buffer, length) => ({ output: await compressFrame(buffer.subarray(0, length), level, checksum), buffer }),
    close: async () => {},
  };
  return chunkedSink(target, codec, { chunkSize, depth: threads + 1, name: 'zstd' });
}
