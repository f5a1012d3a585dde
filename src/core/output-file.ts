/**
 * Output files are written under a temporary name in the destination directory and
 * renamed into place only when complete, so an interrupted or failed build never
 * leaves a partial image at the output path. An output can hash itself as it is written
 * (src/core/file-digest.ts), for SHA256SUMS and --json.
 */
import { closeSync, ftruncateSync, openSync, readSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isAllZero } from './block-image.js';
import { ImageError } from './errors.js';
import { InOrderDigest, type FileDigest } from './file-digest.js';
import { CheckedCopyFailed, copyCheckedRange, CopyMemory, type CheckedRange } from './checked-copy.js';
import type { PhasedControl } from './progress.js';

const active = new Set<OutputFile>();

export interface OutputFileOptions {
  /** Hash the bytes while they are written, so that `sha256()` reads back as little as possible. */
  readonly sha256?: boolean;
  /** Permission bits of the file (default 0644, less the umask). */
  readonly mode?: number;
}

export class OutputFile {
  readonly finalPath: string;
  readonly temporaryPath: string;
  private fd: number;
  private readonly digest: InOrderDigest | undefined;

  /** Bytes free on the output's filesystem when it was created, for the message if it fills up. */
  private readonly freeAtStart: number | undefined;
  /** Bytes written so far (holes not counted), for the same message. */
  private written = 0;

  private constructor(finalPath: string, options: OutputFileOptions) {
    this.finalPath = finalPath;
    this.temporaryPath = join(dirname(finalPath), `.${basename(finalPath)}.partial-${process.pid}`);
    if (isDirectory(finalPath)) {
      throw new ImageError('output.is-directory', `Cannot write "${finalPath}": a directory is in the way`, {
        hint: 'remove it or choose another place with -o',
      });
    }
    try {
      // Readable too: the digest may read back what was not written in order.
      this.fd = openSync(this.temporaryPath, 'w+', options.mode ?? 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new ImageError('output.unwritable', `Cannot write into "${dirname(finalPath)}": ${UNWRITABLE_REASONS[code] ?? code}`, {
        hint: 'choose a writable place with -o',
      });
    }
    this.freeAtStart = freeBytes(dirname(finalPath));
    this.digest = options.sha256 === true ? new InOrderDigest(this.fd, {
      path: this.temporaryPath,
      writeFailure: (code) => this.writeError({ code } as NodeJS.ErrnoException, this.written),
    }) : undefined;
    active.add(this);
  }

  static create(finalPath: string, options: OutputFileOptions = {}): OutputFile {
    return new OutputFile(finalPath, options);
  }

  /** Writes bytes at an absolute position. */
  writeAt(position: number, data: Uint8Array): void {
    let done = 0;
    try {
      while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, position + done);
    } catch (error) {
      throw this.writeError(error as NodeJS.ErrnoException, this.written + done);
    }
    this.written += data.length;
    this.digest?.written(position, data);
  }

  /**
   * Writes a checked range of another file (a cache entry's payload) at `position`: on
   * the digest's thread when the file hashes itself (copied there, asynchronously: a
   * failure comes out of sha256()), here otherwise. Nothing that fails its check is
   * written; CheckedCopyFailed says so.
   */
  copyAt(position: number, range: CheckedRange): void {
    if (this.digest !== undefined) {
      this.digest.copy(position, range);
    } else {
      let failed;
      try {
        failed = copyCheckedRange(range, this.fd, position, this.copyMemory ??= new CopyMemory());
      } catch (error) {
        throw this.writeError(error as NodeJS.ErrnoException, this.written);
      }
      if (failed !== undefined) throw new CheckedCopyFailed([{ path: range.path, reason: failed }]);
    }
    this.written += range.length;
  }

  private copyMemory: CopyMemory | undefined;

  /** Reads back `length` bytes written at `position` into `into` (a cache keeps what was written). */
  readAt(position: number, into: Uint8Array, length: number): void {
    let done = 0;
    try {
      while (done < length) {
        const n = readSync(this.fd, into, done, length - done, position + done);
        if (n === 0) into.fill(0, done, length); // a hole at the end: zeros
        done = n === 0 ? length : done + n;
      }
    } catch (error) {
      throw new ImageError('output.read', `Cannot read back "${this.temporaryPath}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { hint: 'check the disk' });
    }
  }

  /** A failed write as one line; a full filesystem says how much was free and how much of the image it took. */
  private writeError(error: NodeJS.ErrnoException, written: number): ImageError {
    if (error.code === 'ENOSPC' || error.code === 'EDQUOT') {
      const mib = (bytes: number): string => `${Math.ceil(bytes / (1 << 20))} MiB`;
      const free = this.freeAtStart === undefined ? '' : `it had ${mib(this.freeAtStart)} free; `;
      return new ImageError('output.no-space', `Cannot write "${this.finalPath}": the filesystem is full (${free}the image needs more than the ${mib(written)} written before it filled)`, {
        hint: 'free space there or choose another place with -o',
      });
    }
    return new ImageError('output.write', `Cannot write "${this.finalPath}": ${error.code ?? error.message}`, { hint: 'check the disk, or choose another place with -o' });
  }

  /** Writes `data` at `position`, or leaves it a hole (skipZeros) when it is all zeros. */
  writeOrSkipZeros(position: number, data: Uint8Array): void {
    if (isAllZero(data)) this.skipZeros(position, data.length);
    else this.writeAt(position, data);
  }

  /**
   * Leaves [position, position + length) unwritten: it reads as zeros once the file
   * reaches past it (a hole). Writers that skip zero windows say so, so the file can
   * still be hashed in passing.
   */
  skipZeros(position: number, length: number): void {
    this.digest?.zeros(position, length);
  }

  /** Sets the final length; regions never written stay holes (sparse). */
  truncate(length: number): void {
    try {
      ftruncateSync(this.fd, length);
    } catch (error) {
      throw this.writeError(error as NodeJS.ErrnoException, this.written);
    }
    this.digest?.truncated(length);
  }

  /** SHA-256 and length of the bytes written so far; call once, when the file is complete. */
  async sha256(control: PhasedControl = {}): Promise<FileDigest> {
    return (this.digest ?? new InOrderDigest(this.fd)).finish(control, `sha256 ${basename(this.finalPath)}`);
  }

  commit(): string {
    this.digest?.drop();
    closeSync(this.fd);
    this.fd = -1;
    try {
      renameSync(this.temporaryPath, this.finalPath);
    } catch (error) {
      this.abort();
      throw new ImageError('output.rename', `Cannot move the finished file into place at "${this.finalPath}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        hint: 'remove what is in the way or choose another place with -o',
      });
    }
    active.delete(this);
    return this.finalPath;
  }

  abort(): void {
    this.digest?.drop();
    if (this.fd >= 0) {
      try { closeSync(this.fd); } catch { /* already closed */ }
      this.fd = -1;
    }
    rmSync(this.temporaryPath, { force: true });
    active.delete(this);
  }
}

/** Why a directory cannot take the output, in words. */
const UNWRITABLE_REASONS: Readonly<Record<string, string>> = {
  EROFS: 'it is on a read-only filesystem',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'it does not exist',
  ENOTDIR: 'a file is in the way of the directory',
  ENOSPC: 'its filesystem is full',
};

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function freeBytes(directory: string): number | undefined {
  try {
    const stats = statfsSync(directory);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/** Removes every output still being written (used by the SIGINT handler). */
export function abortAllOutputs(): void {
  for (const output of [...active]) output.abort();
}
