/** What passes between AnticipationThread (anticipation.ts) and its worker (anticipation-worker.ts). */
import type { FilePart } from '../core/described-spans.js';
import type { ClaimedJob } from '../core/take-back-worker.js';

/** How a part is compressed: as gzip.ts deflates a described span, or as zstd.ts frames one. */
export type AnticipatedCodec =
  | { readonly kind: 'deflate'; readonly level: number }
  | { readonly kind: 'zstd'; readonly level: number; readonly checksum: boolean };

export interface AnticipationJob extends ClaimedJob {
  readonly part: FilePart;
  readonly codec: AnticipatedCodec;
  /** The cache entry the worker writes (core/unit-cache.ts writeEntryFile): the temporary file UnitCache.reserve named, and the key. */
  readonly entry: { readonly temporary: string; readonly key: Uint8Array };
}

export interface AnticipationResult {
  /** The entry's size once written, the error code of its failed write, or undefined when the job was taken back before it started. */
  readonly written: number | string | undefined;
}
