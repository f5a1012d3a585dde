/**
 * A gzip ByteSink that compresses on all cores and still writes one ordinary gzip member
 * (RFC 1952), as pigz does: the input is cut into fixed chunks, each chunk is deflated on
 * the libuv thread pool with the previous 32 KiB as its dictionary and ends with a sync
 * flush (the last one with a final block), and the raw DEFLATE pieces are written strictly
 * in input order between one header and one trailer. The chunk boundaries depend only on
 * the byte stream, so the output is the same bytes every run (for one zlib build).
 */
import { availableParallelism } from 'node:os';
import { constants as zlibConstants, deflateRaw } from 'node:zlib';
import { crc32 } from '../core/checksum.js';
import { UsageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';

export interface GzipOptions {
  /** zlib level 0-9; default 6 (gzip's and nixpkgs' default). */
  readonly level?: number;
  /** Bytes per independently compressed chunk; default 1 MiB. */
  readonly chunkSize?: number;
  /** Chunks in flight at once; default twice the number of cores (at least 4). */
  readonly depth?: number;
}

const DICTIONARY = 32 * 1024;
/** "\x1f\x8b", deflate, no flags, mtime 0, no extra flags, OS 3 (Unix). */
const HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3);

export function gzipSink(inner: ByteSink, options: GzipOptions = {}): ByteSink {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new UsageError('gzip.level', `Cannot use the gzip level ${String(level)}: expected a whole number from 0 to 9`);
  }
  const chunkSize = options.chunkSize ?? 1 << 20;
  if (!Number.isInteger(chunkSize) || chunkSize < DICTIONARY) {
    throw new UsageError('gzip.chunk-size', `Cannot use the gzip chunk size ${chunkSize}: expected at least ${DICTIONARY} bytes`);
  }
  const depth = options.depth ?? Math.max(4, 2 * availableParallelism());

  let chunk = new Uint8Array(chunkSize);
  let used = 0;
  let total = 0;
  let crc = 0;
  let dictionary: Uint8Array | undefined;
  let headerWritten = false;
  let closed = false;
  const pending: Promise<Uint8Array>[] = [];

  const settleOldest = async (): Promise<void> => {
    const piece = await pending.shift()!;
    if (!headerWritten) {
      await inner.write(HEADER);
      headerWritten = true;
    }
    await inner.write(piece);
  };

  const dispatch = async (data: Uint8Array, last: boolean): Promise<void> => {
    crc = crc32(data, crc);
    const job = deflatePiece(data, level, dictionary, last);
    job.catch(() => undefined); // surfaces when settled, not as an unhandled rejection
    pending.push(job);
    dictionary = data.length >= DICTIONARY ? data.subarray(data.length - DICTIONARY) : undefined;
    if (pending.length >= depth) await settleOldest();
  };

  return {
    get position() {
      return total;
    },
    async write(data) {
      if (closed) throw new UsageError('gzip.closed', 'Internal error: write to a closed gzip sink');
      let at = 0;
      while (at < data.length) {
        const take = Math.min(chunkSize - used, data.length - at);
        chunk.set(data.subarray(at, at + take), used);
        used += take;
        at += take;
        total += take;
        if (used === chunkSize) {
          const full = chunk;
          chunk = new Uint8Array(chunkSize);
          used = 0;
          await dispatch(full, false);
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await dispatch(chunk.subarray(0, used), true);
      while (pending.length > 0) await settleOldest();
      const trailer = new Uint8Array(8);
      const view = new DataView(trailer.buffer);
      view.setUint32(0, crc >>> 0, true);
      view.setUint32(4, total % 2 ** 32, true);
      await inner.write(trailer);
      await inner.close();
    },
  };
}

function deflatePiece(data: Uint8Array, level: number, dictionary: Uint8Array | undefined, last: boolean): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, {
      level,
      finishFlush: last ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH,
      ...(dictionary === undefined ? {} : { dictionary }),
    }, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
}
