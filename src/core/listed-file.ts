/**
 * Store files as the writers read them: host file names as byte strings, and opening a
 * file listed earlier, whose size must still be the listing's. Store paths never change,
 * so a different size means the store changed under the build (a garbage collection, a
 * repair, a hand edit); the build stops instead of writing an image that differs from
 * the closure's registration. (A rewrite keeping the size is not seen without hashing
 * every file again.)
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
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

/** Opens `path` for reading and checks it still has `listedSize` bytes. */
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
  if (listedSize !== undefined) {
    const size = fstatSync(fd).size;
    if (size !== listedSize) {
      closeSync(fd);
      throw storeChanged(path, listedSize, size);
    }
  }
  return fd;
}
