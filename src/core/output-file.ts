/**
 * Output files are written under a temporary name in the destination directory and
 * renamed into place only when complete, so an interrupted or failed build never
 * leaves a partial image at the output path. An output can hash itself as it is written
 * (src/core/file-digest.ts), for SHA256SUMS and --json.
 */
import { closeSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ImageError } from './errors.js';
import { InOrderDigest, type FileDigest } from './file-digest.js';
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

  private constructor(finalPath: string, options: OutputFileOptions) {
    this.finalPath = finalPath;
    this.temporaryPath = join(dirname(finalPath), `.${basename(finalPath)}.partial-${process.pid}`);
    // Readable too: the digest may read back what was not written in order.
    this.fd = openSync(this.temporaryPath, 'w+', options.mode ?? 0o644);
    this.digest = options.sha256 === true ? new InOrderDigest() : undefined;
    active.add(this);
  }

  static create(finalPath: string, options: OutputFileOptions = {}): OutputFile {
    return new OutputFile(finalPath, options);
  }

  /** Writes bytes at an absolute position. */
  writeAt(position: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, position + done);
    this.digest?.written(position, data);
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
    ftruncateSync(this.fd, length);
    this.digest?.truncated(length);
  }

  /** SHA-256 and length of the bytes written so far; call once, when the file is complete. */
  async sha256(control: PhasedControl = {}): Promise<FileDigest> {
    return (this.digest ?? new InOrderDigest()).finish(this.fd, control, `sha256 ${basename(this.finalPath)}`);
  }

  commit(): string {
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
    if (this.fd >= 0) {
      try { closeSync(this.fd); } catch { /* already closed */ }
      this.fd = -1;
    }
    rmSync(this.temporaryPath, { force: true });
    active.delete(this);
  }
}

/** Removes every output still being written (used by the SIGINT handler). */
export function abortAllOutputs(): void {
  for (const output of [...active]) output.abort();
}
