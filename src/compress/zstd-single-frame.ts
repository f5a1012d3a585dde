/**
 * zstd as one frame, compressed on all cores by libzstd's own worker threads (Node's
 * zlib, ZSTD_c_nbWorkers), for readers that stop after the first frame: the kernel's
 * initramfs unpacker takes one zstd frame per archive and calls what follows junk, so
 * the chunked, frame-per-megabyte zstdSink cannot feed it. The bytes depend only on the
 * input and the level (libzstd's multi-threaded output is the same for any number of
 * workers), with a content checksum as the zstd command line writes.
 */
import { availableParallelism } from 'node:os';
import { constants, createZstdCompress, type ZstdCompress } from 'node:zlib';
import { ImageError, UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import type { CompressingSink } from './chunked-sink.js';

export interface ZstdSingleFrameOptions {
  /** zstd level 1 to 19. */
  readonly level: number;
  /** libzstd worker threads; default the number of cores. Does not change the output. */
  readonly threads?: number;
}

export function zstdSingleFrameSink(target: ByteSink, options: ZstdSingleFrameOptions): CompressingSink {
  const { level } = options;
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new UsageError('zstd.level', `Cannot use zstd level ${level}: expected a whole number from 1 to 19`);
  }
  const threads = options.threads ?? availableParallelism();
  const stream: ZstdCompress = createZstdCompress({
    params: {
      [constants.ZSTD_c_compressionLevel]: level,
      [constants.ZSTD_c_checksumFlag]: 1,
      [constants.ZSTD_c_nbWorkers]: threads,
    },
  });
  let position = 0;
  let compressed = 0;
  let failure: Error | undefined;
  // Compressed output goes to the target in order; writes to the target are chained.
  let pending: Promise<void> = Promise.resolve();
  stream.on('data', (chunk: Buffer) => {
    compressed += chunk.length;
    pending = pending.then(() => target.write(chunk));
    pending.catch((error: unknown) => {
      failure ??= error as Error;
    });
  });
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', (error) => {
      failure ??= error;
      reject(new ImageError('zstd.failed', `Cannot compress with zstd: ${error.message}`));
    });
  });
  ended.catch(() => undefined);
  const check = (): void => {
    if (failure !== undefined) throw failure instanceof ImageError ? failure : new ImageError('zstd.failed', `Cannot compress with zstd: ${failure.message}`);
  };
  return {
    get position() {
      return position;
    },
    get compressedPosition() {
      return compressed;
    },
    async write(data) {
      check();
      position += data.length;
      // The stream keeps the buffer until it is consumed: give it its own copy.
      if (!stream.write(Buffer.from(data))) await new Promise<void>((resolve) => stream.once('drain', resolve));
      // Keep the target's queue short: wait for what was written before.
      await pending;
      check();
    },
    async close() {
      check();
      stream.end();
      await ended;
      await pending;
      check();
      await target.close();
    },
    async abort() {
      stream.destroy();
      await pending.catch(() => undefined);
    },
  };
}
