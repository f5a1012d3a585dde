/**
 * Store files as the writers read them: host file names as byte strings, and opening a
 * file listed earlier, which must still be as it was. Store paths never change, so a
 * different size means the store changed under the build (a garbage collection, a
 * repair, a hand edit), and so does a file in /nix/store whose time is not 1, the time
 * Nix gives every store file (a rewrite that keeps the size still changes the time);
 * the build stops instead of writing an image that differs from the closure's
 * registration.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ImageError } from './errors.js';

/**
 * A byte-string (latin1) path as the fs functions take it: ASCII paths as they are
 * (they are their own UTF-8), others as the exact bytes.
 */
export function hostPath(path: string): string | Buffer {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(path) ? path : Buffer.from(path, 'latin1');
}

/** The one-line error for a store file whose size is not the listing's any more. */
export function storeChanged(path: string, listedSize: number, size: number): ImageError {
  return new ImageError('input.changed', `Cannot copy "${path}": it had ${listedSize} bytes when listed and has ${size} now (the store changed during the build)`, {
    hint: 'store paths never change; check the store (nix-store --verify --check-contents) and rebuild',
  });
}

/** Where Nix keeps the store; its files all have the time STORE_MTIME_MS. */
const STORE_PREFIX = '/nix/store/';
const STORE_MTIME_MS = 1000;

/** The one-line error for a store file written after Nix registered it. */
export function storeRewritten(path: string, mtimeMs: number): ImageError {
  return new ImageError('input.changed', `Cannot copy "${path}": it was modified at ${new Date(mtimeMs).toISOString()}, after Nix registered it (store files keep the time 1970-01-01T00:00:01Z)`, {
    hint: 'store paths never change; check the store (nix-store --verify --check-contents) and rebuild',
  });
}

/**
 * Opens `path` for reading and checks it still has `listedSize` bytes and, in the Nix
 * store, the store's time.
 */
export function openListedFile(path: string, listedSize: number | undefined): number {
  let fd: number;
  try {
    fd = openSync(hostPath(path), 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ImageError('input.unreadable', `Cannot read "${path}": ${code === 'ENOENT' ? 'it is gone (the store changed during the build)' : code}`, {
      hint: code === 'ENOENT' ? 'keep the system\'s closure alive (a GC root, or nix-build without --no-out-link) and rebuild' : 'check that the store path exists and is readable by this user',
      cause: error,
    });
  }
  const stats = fstatSync(fd);
  if (listedSize !== undefined && stats.size !== listedSize) {
    closeSync(fd);
    throw storeChanged(path, listedSize, stats.size);
  }
  if (path.startsWith(STORE_PREFIX) && stats.mtimeMs !== STORE_MTIME_MS) {
    closeSync(fd);
    throw storeRewritten(path, stats.mtimeMs);
  }
  return fd;
}

/** Reads `length` bytes at `position` of the open file into `into` at `at`; a short file is a changed store. */
export function readExactly(fd: number, path: string, into: Uint8Array, at: number, length: number, position: number): void {
  let got = 0;
  while (got < length) {
    let n: number;
    try {
      n = readSync(fd, into, at + got, length - got, position + got);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new ImageError('input.unreadable', `Cannot read "${path}": ${code}`, { cause: error });
    }
    if (n === 0) {
      throw new ImageError('input.changed', `Cannot read "${path}": it is shorter than when it was listed`, {
        hint: 'the file changed during the build; rebuild',
      });
    }
    got += n;
  }
}

/** `length` bytes at `offset` of a file listed with `listedSize` bytes, checked as openListedFile checks it. */
export function readListedPart(path: string, listedSize: number, offset: number, length: number): Uint8Array {
  const fd = openListedFile(path, listedSize);
  try {
    const bytes = new Uint8Array(length);
    readExactly(fd, path, bytes, 0, length, offset);
    return bytes;
  } finally {
    closeSync(fd);
  }
}
