/**
 * Copying the rest of a cache entry into an output without the writing thread reading it:
 * the entry's header was read and checked where the entry was looked up (UnitCache.head);
 * the payload is read, checked against the entry's CRC-32 and written by whichever thread
 * copies it (the output's digest thread, which hashes it on the way: core/file-digest.ts).
 * Nothing that fails its check is written; the build is then made again without the
 * entry (formats/build.ts), since the bytes after it were placed assuming it.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ImageError } from './errors.js';

/** Bytes of a file, and the CRC-32 they must have when it is continued from `seed`. */
export interface CheckedRange {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  readonly seed: number;
  readonly crc: number;
}

/** Why a range was not copied: its bytes failed the check, or the file could not be read (removed meanwhile by another build's eviction). */
export type CopyFailure = 'damaged' | 'unreadable';

/** Ranges that were not copied (each file's and why): the output is wrong from the first on. */
export class CheckedCopyFailed extends ImageError {
  constructor(readonly failures: readonly { readonly path: string; readonly reason: CopyFailure }[]) {
    super('cache.entry-failed', `${failures.length} cache entries (the first "${failures[0]?.path ?? ''}") failed their check or were gone when copied into the output`, {
      hint: 'the build is made again without them',
    });
  }
}

/** Memory the ranges are read into, kept for the next copy. */
export class CopyMemory {
  private buffer = new Uint8Array(1 << 20);

  /** At least `length` bytes. */
  take(length: number): Uint8Array {
    if (this.buffer.length < length) this.buffer = new Uint8Array(Math.ceil(length / (1 << 20)) * (1 << 20));
    return this.buffer;
  }
}

/**
 * Reads `range`, checks it and writes it at `position` of `fd`, telling `onBytes` of the
 * bytes written; returns what failed instead (nothing written). A failed write throws.
 */
export function copyCheckedRange(range: CheckedRange, fd: number, position: number, memory: CopyMemory,
  onBytes?: (bytes: Uint8Array) => void): CopyFailure | undefined {
  const bytes = memory.take(range.length).subarray(0, range.length);
  let source: number;
  try {
    source = openSync(range.path, 'r');
  } catch {
    return 'unreadable';
  }
  try {
    let got = 0;
    while (got < range.length) {
      const n = readSync(source, bytes, got, range.length - got, range.offset + got);
      if (n === 0) return 'damaged';
      got += n;
    }
  } catch {
    return 'unreadable';
  } finally {
    closeSync(source);
  }
  if (crc32(bytes, range.seed) !== range.crc) return 'damaged';
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  onBytes?.(bytes);
  return undefined;
}
