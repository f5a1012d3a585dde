/**
 * SHA-256 of an output file, computed while it is written as far as the writes come in
 * file order, and finished by reading back only the bytes that did not. Stream-shaped
 * outputs (compressed, tar-based, streamOptimized VMDK) and writers that declare their
 * skipped zero windows (raw, fixed VHD) are hashed entirely in passing; containers that
 * fill in a header or tables at the end (qcow2, dynamic VHD, VHDX, monolithicSparse VMDK,
 * OVA) are read back from the first byte written out of order.
 */
import { createHash, type Hash } from 'node:crypto';
import { fstatSync, readSync } from 'node:fs';
import { checkpoint, progressReporter, type PhasedControl } from './progress.js';

const READ_CHUNK = 4 << 20;
const ZERO_CHUNK = new Uint8Array(1 << 20);

export interface FileDigest {
  /** Lower-case hex SHA-256 of the whole file. */
  readonly sha256: string;
  /** The file's length in bytes. */
  readonly size: number;
  /** Bytes read back from the file because they were not written in order (0 when all were). */
  readonly readBack: number;
}

/**
 * Hashes the bytes of a file as they are written, while they are written in order: each
 * write at exactly the hashed length extends the hash. A write further on is left for
 * the read-back; a write inside the hashed part changes bytes already hashed, so the
 * hash restarts from the file at the end.
 */
export class InOrderDigest {
  private hash: Hash = createHash('sha256');
  /** Bytes [0, hashed) of the file are in the hash, as they will stay. */
  private hashed = 0;
  /** Where the first write beyond the hashed part began: declared zeros may not reach it. */
  private firstAhead = Infinity;

  /** Records `data` written at `position`. */
  written(position: number, data: Uint8Array): void {
    if (data.length === 0) return;
    if (position === this.hashed) {
      this.hash.update(data);
      this.hashed += data.length;
    } else if (position < this.hashed) {
      this.restart();
    } else {
      this.firstAhead = Math.min(this.firstAhead, position);
    }
  }

  /** Records that [position, position + length) is left unwritten, to read as zeros. */
  zeros(position: number, length: number): void {
    if (length === 0) return;
    if (position < this.hashed) {
      this.restart();
      return;
    }
    if (position !== this.hashed || position + length > this.firstAhead) return;
    for (let left = length; left > 0; left -= ZERO_CHUNK.length) this.hash.update(ZERO_CHUNK.subarray(0, Math.min(left, ZERO_CHUNK.length)));
    this.hashed += length;
  }

  /** Records that the file was cut (or extended) to `length`. */
  truncated(length: number): void {
    if (length < this.hashed) this.restart();
  }

  /** Completes the hash from the file behind `fd`, reading what was not hashed in passing. */
  async finish(fd: number, control: PhasedControl = {}, phase = 'sha256'): Promise<FileDigest> {
    const size = fstatSync(fd).size;
    // Zeros declared past the end the file never reached are not in the file.
    if (this.hashed > size) this.restart();
    const from = this.hashed;
    const report = progressReporter(control, phase, size - from);
    const buffer = new Uint8Array(Math.min(READ_CHUNK, Math.max(size - from, 1)));
    let position = from;
    if (position < size) report(0);
    while (position < size) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - position), position);
      if (n === 0) break;
      this.hash.update(buffer.subarray(0, n));
      position += n;
      report(position - from);
      await checkpoint(control);
    }
    const sha256 = this.hash.digest('hex');
    return { sha256, size, readBack: position - from };
  }

  private restart(): void {
    this.hash = createHash('sha256');
    this.hashed = 0;
    this.firstAhead = 0;
  }
}
