/**
 * Content-defined cut points for compressed streams made of independent chunks (xz
 * blocks, gzip pieces, zstd frames, the raw blocks of the kexec ramdisk's frame): a chunk
 * ends where a rolling hash of its last 32 bytes has its top bits zero, once it holds at
 * least `minimum` bytes, or at `maximum`. The cuts depend only on the bytes near them,
 * so after a change the following chunks are cut where they were before (only shifted),
 * their content is the same, and the unit cache finds them.
 *
 * The hash is a gear hash (h = 2h + GEAR[byte], 32 bits, as FastCDC uses): each bit of it
 * depends on the last 32 bytes only, so hashing can start 32 bytes before `minimum`
 * instead of at the chunk's start.
 */
import { deriveBytes } from '../core/reproducible.js';
import { UsageError } from '../core/errors.js';

const WINDOW = 32;

/** One random 32-bit number per byte value, fixed: the cuts are part of the output's identity. */
const GEAR = (() => {
  const bytes = deriveBytes('nixos-generate content cuts', 'gear table', 256 * 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Int32Array.from({ length: 256 }, (_, i) => view.getInt32(4 * i, true));
})();

export interface ContentCutOptions {
  readonly minimum: number;
  readonly maximum: number;
  /** A cut after `minimum` has probability 2^-bits per byte: chunks average minimum + 2^bits. */
  readonly bits: number;
}

/**
 * The options for chunks from half of `size` to one and a half times it, about two thirds
 * of it on average: a cut is possible every size/6 bytes on average once a chunk holds
 * half of `size`. Possible cuts that close together keep chunks from reaching the maximum
 * (where the cut is not the content's, and the next chunks' cuts follow from it), so after
 * a change the cuts are the earlier ones again within about one chunk: on 256 MiB of the
 * store-like benchmark payload with size 12 MiB, 9.5 MiB made again per change, against
 * 15.8 MiB with a cut every size/2 bytes (a third of those chunks at the maximum).
 */
export function contentCutsAround(size: number): ContentCutOptions {
  const bits = Math.round(Math.log2(size / 6));
  return { minimum: Math.floor(size / 2), maximum: Math.floor(size * 1.5), bits };
}

/** Finds the cut points of one stream; feed it each chunk's bytes in order. */
export class ContentCuts {
  private hash = 0;
  /** Bytes of the current chunk seen so far. */
  private length = 0;
  private readonly mask: number;

  constructor(private readonly options: ContentCutOptions) {
    const { minimum, maximum, bits } = options;
    if (!Number.isInteger(bits) || bits < 1 || bits > 31 || minimum < WINDOW || maximum <= minimum) {
      throw new UsageError('compress.cuts', `Cannot cut chunks of ${minimum} to ${maximum} bytes with ${bits} bits`);
    }
    this.mask = (~0 << (32 - bits)) | 0;
  }

  /**
   * Looks at the next `data[from, to)` bytes of the current chunk; returns how many of
   * them belong to it (the chunk ends after them) or undefined when it goes on past them.
   */
  scan(data: Uint8Array, from: number, to: number): number | undefined {
    const { minimum, maximum } = this.options;
    const start = this.length;
    const limit = Math.min(to, from + (maximum - start));
    // Before minimum - WINDOW nothing can cut and the hash forgets those bytes anyway.
    let i = Math.max(from, from + (minimum - WINDOW - start));
    let hash = i === from ? this.hash : 0;
    const mask = this.mask;
    const firstCut = from + (minimum - start);
    for (; i < limit; i++) {
      hash = ((hash << 1) + GEAR[data[i]!]!) | 0;
      if (i >= firstCut && (hash & mask) === 0) {
        this.reset();
        return i + 1 - from;
      }
    }
    if (limit < to || start + (limit - from) === maximum) {
      this.reset();
      return limit - from;
    }
    this.hash = hash;
    this.length = start + (to - from);
    return undefined;
  }

  /** Starts a new chunk here (the caller ended the last one itself). */
  reset(): void {
    this.hash = 0;
    this.length = 0;
  }
}
