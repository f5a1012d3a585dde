/**
 * zstd as one frame, streamed through Node's zlib (libzstd on libuv's thread pool), for
 * readers that stop after the first frame: the kernel's initramfs unpacker takes one
 * zstd frame per archive and calls what follows junk, so the chunked, frame-per-megabyte
 * zstdSink cannot feed it. One thread, as `zstd -N` compresses a pipe: libzstd's own
 * workers (ZSTD_c_nbWorkers) would be faster, but with them on, Node 24's streaming
 * zstd ends the stream early, with no output, once a few MiB have been written. The
 * bytes depend only on the input and the level; the frame carries a content checksum,
 * as the zstd command line writes it.
 */
import { constants, createZstdCompress, type ZstdCompress } from 'node:zlib';
import { ImageError, UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import type { CompressingSink } from './chunked-sink.js';

export interface ZstdSingleFrameOptions {
  /** zstd level 1 to 19. */
  readonly level: number;
}

export function zstdSingleFrameSink(target: ByteSink, options: ZstdSingleFrameOptions): CompressingSink {
  const { level } = options;
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new UsageError('zstd.level', `Cannot use zstd level ${level}: expected a whole number from 1 to 19`);
  }
  const stream: ZstdCompress = createZstdCompress({
    params: {
      [constants.ZSTD_c_compressionLevel]: level,
      [constants.ZSTD_c_checksumFlag]: 1,
    },
  });
  let position = 0;
  let compressed = 0;
  let failure: Error | undefined;
  // Compressed output goes to the target in order; writes to the target are chained.
  let pending: Promise<void> = Promise.resolve();
  // Settles when the stream has consumed the last chunk written.
  let processed: Promise<void> = Promise.resolve();
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
  let aborted = false;
  const check = (): void => {
    if (aborted) throw new ImageError('zstd.aborted', 'Cannot write to the zstd stream: it was aborted');
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
      let accepted = true;
      processed = new Promise<void>((resolve) => {
        accepted = stream.write(Buffer.from(data), () => resolve());
      });
      if (!accepted) await new Promise<void>((resolve) => stream.once('drain', resolve));
      // Keep the target's queue short: wait for what was written before.
      await pending;
      check();
    },
    async close() {
      check();
      // Node's zlib ends the frame on the last chunk still queued at end() and then
      // again on its final empty flush, which for zstd is a second, empty frame: let
      // every chunk be consumed first, so the final flush alone ends the one frame.
      await processed;
      stream.end();
      await ended;
      await pending;
      check();
      await target.close();
    },
    async abort() {
      aborted = true;
      stream.destroy();
      await pending.catch(() => undefined);
    },
  };
}
