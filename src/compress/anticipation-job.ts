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
}

export interface AnticipationResult {
  /** The compressed bytes: [0, length) of this buffer. */
  readonly bytes: ArrayBuffer;
  /** -1 when the job was taken back before it started. */
  readonly length: number;
  /** CRC-32 of the part's bytes (the uncompressed ones). */
  readonly crc: number;
}
