import type { OutputFile } from './output-file.js';
import type { CheckedRange } from './checked-copy.js';

/** Pieces at least this large go to the file as they are: copying them would only cost. */
const DIRECT_WRITE = 256 << 10;

/**
 * Appends bytes at increasing file positions, gathering small pieces into large writes
 * and writing large ones directly. The writer owns the file region from `start` onwards
 * until `flush` is called.
 */
export class SequentialWriter {
  private readonly out: OutputFile;
  private readonly buffer: Uint8Array;
  private start: number;
  private used = 0;

  constructor(out: OutputFile, start: number, bufferSize = 4 << 20) {
    this.out = out;
    this.start = start;
    this.buffer = new Uint8Array(bufferSize);
  }

  /** The file position the next byte will be written at. */
  get position(): number {
    return this.start + this.used;
  }

  write(data: Uint8Array): void {
    if (this.used + data.length > this.buffer.length || (data.length >= DIRECT_WRITE && this.used > 0)) this.flush();
    if (data.length >= DIRECT_WRITE || data.length >= this.buffer.length) {
      this.out.writeAt(this.start, data);
      this.start += data.length;
      return;
    }
    this.buffer.set(data, this.used);
    this.used += data.length;
  }

  /** Appends a checked range of another file (OutputFile.copyAt), after what is gathered. */
  copy(range: CheckedRange): void {
    this.flush();
    this.out.copyAt(this.start, range);
    this.start += range.length;
  }

  /** Moves to the next multiple of `alignment`; the skipped bytes read as zeros. */
  alignTo(alignment: number): void {
    const target = Math.ceil(this.position / alignment) * alignment;
    const gap = target - this.position;
    if (gap === 0) return;
    if (this.used + gap <= this.buffer.length) {
      this.buffer.fill(0, this.used, this.used + gap);
      this.used += gap;
    } else {
      this.flush();
      this.out.skipZeros(this.start, gap);
      this.start = target;
    }
  }

  flush(): void {
    if (this.used > 0) this.out.writeAt(this.start, this.buffer.subarray(0, this.used));
    this.start += this.used;
    this.used = 0;
  }
}
