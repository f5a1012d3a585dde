/** Small ByteSink adapters used by the archive and appliance writers. */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { ImageError } from '../core/errors.js';
import { openListedFile } from '../core/listed-file.js';
import type { ByteSink } from '../core/sink.js';

/** Forwards to `inner` while hashing (SHA-256) what passes; `digest()` after close. */
export interface HashingSink extends ByteSink {
  /** Lower-case hex SHA-256 of everything written. */
  digest(): string;
}

export function hashingSink(inner: ByteSink, closeInner = true): HashingSink {
  const hash: Hash = createHash('sha256');
  let count = 0;
  let hex: string | undefined;
  return {
    get position() {
      return count;
    },
    async write(data) {
      hash.update(data);
      count += data.length;
      await inner.write(data);
    },
    async close() {
      hex ??= hash.digest('hex');
      if (closeInner) await inner.close();
    },
    digest() {
      hex ??= hash.digest('hex');
      return hex;
    },
  };
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Streams `length` bytes of the file at `path` into `sink`, in 4 MiB reads. */
export async function copyFileInto(path: string, length: number, sink: ByteSink, onChunk?: () => Promise<void> | undefined): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    const buffer = new Uint8Array(4 << 20);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, length - done), done);
      if (n === 0) throw new ImageError('archive.short-file', `Cannot read "${path}": it ended after ${done} of ${length} bytes`);
      await sink.write(buffer.subarray(0, n));
      done += n;
      const pause = onChunk?.();
      if (pause !== undefined) await pause;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams `size` bytes of a host file (a byte-string path, as the file trees hold them)
 * through `buffer` into `write`, which must take the bytes before it resolves (the buffer
 * is reused). An unreadable file and one shorter than `size` are one-line ImageErrors.
 */
export async function streamHostFile(path: string, size: number, buffer: Uint8Array, write: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const fd = openListedFile(path, size);
  try {
    for (let done = 0; done < size;) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - done), done);
      if (n === 0) throw new ImageError('input.changed', `Cannot read "${path}": it ended after ${done} of ${size} bytes`, { hint: 'the store path changed while the image was written' });
      await write(buffer.subarray(0, n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}
