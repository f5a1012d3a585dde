/**
 * A sequential byte sink: what stream-shaped outputs write to (a compressor, a tar
 * member, or a file). Random-access writers use OutputFile directly; writers that can
 * emit their bytes strictly in order take a ByteSink, so the same writer can feed a
 * plain file or a gzip/zstd stream without an intermediate file.
 */
import type { OutputFile } from './output-file.js';
import { SequentialWriter } from './sequential-writer.js';
import type { CheckedRange } from './checked-copy.js';

export interface ByteSink {
  /**
   * Appends `data`. The sink copies what it keeps, so the caller may reuse `data` once
   * the promise resolves; awaiting it is the backpressure.
   */
  write(data: Uint8Array): Promise<void>;
  /**
   * Present when the sink can append bytes of another file without this thread reading
   * them: appends `range` once it passes its check (core/checked-copy.ts). A file sink
   * only: what it appends is already compressed.
   */
  copy?(range: CheckedRange): Promise<void>;
  /** Bytes appended so far (before any compression the sink applies). */
  readonly position: number;
  /** Writes out everything buffered; no writes may follow. */
  close(): Promise<void>;
}

/** Appends to an OutputFile from `start`, gathering small writes into large ones. */
export function outputFileSink(out: OutputFile, start = 0): ByteSink {
  const writer = new SequentialWriter(out, start);
  return {
    get position() {
      return writer.position - start;
    },
    async write(data) {
      writer.write(data);
    },
    async copy(range) {
      writer.copy(range);
    },
    async close() {
      writer.flush();
    },
  };
}
