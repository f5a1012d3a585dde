/**
 * What passes between AnticipationThread (anticipation.ts) and its worker
 * (anticipation-worker.ts): the job, the reply, and the shared claim word that decides
 * whether the worker starts a job or the stream takes it back.
 */
import type { FilePart } from '../core/described-spans.js';

/** How a part is compressed: as gzip.ts deflates a described span, or as zstd.ts frames one. */
export type AnticipatedCodec =
  | { readonly kind: 'deflate'; readonly level: number }
  | { readonly kind: 'zstd'; readonly level: number; readonly checksum: boolean };

/** A job's word in the shared claims: the thread starts it, or the stream takes it back, whichever swaps `queued` first. */
export const CLAIM = { queued: 0, started: 1, takenBack: 2 } as const;

export interface AnticipationJob {
  readonly id: number;
  readonly part: FilePart;
  readonly codec: AnticipatedCodec;
  readonly claims: SharedArrayBuffer;
  /** This job's word in `claims`. */
  readonly slot: number;
}

export interface AnticipationResult {
  /** The compressed bytes: [0, length) of this buffer. */
  readonly bytes: ArrayBuffer;
  /** -1 when the job was taken back before it started. */
  readonly length: number;
  /** CRC-32 of the part's bytes (the uncompressed ones). */
  readonly crc: number;
}
