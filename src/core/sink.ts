/**
 * A sequential byte sink: what stream-shaped outputs write to (a compressor, a tar
 * member, or a file). Random-access writers use OutputFile directly; writers that can
 * emit their bytes strictly in order take a ByteSink, so the same writer can feed a
 * plain file or a gzip/zstd stream without an intermediate file.
 */
import type { OutputFile } from './output-file.js';

export interface ByteSink {
  /**
   * Appends `data`. The sink copies what it keeps, so the caller may reuse `data` once
   * the promise resolves; awaiting it is the backpressure.
   */
  write(data: Uint8Array): Promise<void>;
  /** Bytes appended so far (before any compression the sink applies). */
  readonly position: number;
  /** Writes out everything buffered; no writes may follow. */
  close(): Promise<void>;
}

const BUFFER = 4 << 20;

/** Appends to an OutputFile from `start`, gathering small writes into large ones. */
export function outputFileSink(out: OutputFile, start = 0): ByteSink {
  const buffer = new Uint8Array(BUFFER);
  let flushed = start;
  let used = 0;
  const flush = (): void => {
    if (used > 0) out.writeAt(flushed, buffer.subarray(0, used));
    flushed += used;
    used = 0;
  };
  return {
    get position() {
      return flushed + used - start;
    },
    async write(data) {
      if (used + data.length > buffer.length) flush();
      if (data.length >= buffer.length) {
        out.writeAt(flushed, data);
        flushed += data.length;
      } else {
        buffer.set(data, used);
        used += data.length;
      }
    },
    async close() {
      flush();
    },
  };
}
