/**
 * Output files are written under a temporary name in the destination directory and
 * renamed into place only when complete, so an interrupted or failed build never
 * leaves a partial image at the output path.
 */
import { closeSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const active = new Set<OutputFile>();

export class OutputFile {
  readonly finalPath: string;
  readonly temporaryPath: string;
  private fd: number;

  private constructor(finalPath: string) {
    this.finalPath = finalPath;
    this.temporaryPath = join(dirname(finalPath), `.${basename(finalPath)}.partial-${process.pid}`);
    this.fd = openSync(this.temporaryPath, 'w', 0o644);
    active.add(this);
  }

  static create(finalPath: string): OutputFile {
    return new OutputFile(finalPath);
  }

  /** Writes bytes at an absolute position. */
  writeAt(position: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, position + done);
  }

  /** Sets the final length; regions never written stay holes (sparse). */
  truncate(length: number): void {
    ftruncateSync(this.fd, length);
  }

  commit(): string {
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.temporaryPath, this.finalPath);
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
