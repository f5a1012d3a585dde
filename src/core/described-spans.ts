/**
 * Described spans: an image's segments grouped into stretches whose bytes are known
 * without reading them. A segment of a store file is described by the file's identity (its
 * store path's NAR hash and its name there) and the part of it taken; an in-memory segment
 * by its SHA-256. A span of such segments, with the zeros between them, is described by
 * those and their offsets, so a compressor's cache can hand back the span's compressed
 * bytes and the file data under it is never opened.
 *
 * Where the spans end depends only on the segments, never on a cache: before a file
 * whose identity hashes to a chosen value once a span holds `minimum` bytes, before a part
 * that would take it past `maximum`, at every `SPLIT` bytes of a larger file, and at
 * anything else (a produced segment such as a directory block, or a gap of a block or
 * more). So after a change the spans after it are cut where they were, and found again.
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';
import type { Segment } from './block-image.js';

/** What a file of the closure is, without reading it: undefined for one outside the store. */
export type FileIdentity = (path: string) => string | undefined;

export interface DescribedSpanRule {
  /** Spans hold at most this many bytes (the compressor's largest unit). */
  readonly maximum: number;
  /** A span ends before a file only once it holds this many. */
  readonly minimum: number;
}

export interface Span {
  /** Image offset of the first segment's first byte. */
  readonly start: number;
  /** Image offset after the span: its last segment's end, or the next span's start when only a few zeros lie between. */
  readonly end: number;
  readonly segments: readonly Segment[];
  /** Identifies the bytes [start, end) (segments and the zeros between): undefined when they must be read. */
  readonly description: Uint8Array | undefined;
}

/** Larger files are cut at every multiple of this, so their parts stay put when they move. */
export const SPLIT = 1 << 20;
/** A gap of this much or more ends a span: within a store path files follow block by block. */
const MAX_GAP = 4096;
/** One file start in 2^CANDIDATE_BITS may end a span (past `minimum`). */
const CANDIDATE_BITS = 2;

/** FNV-1a of a string: a cheap, fixed hash that picks a span's possible ends. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** What a part of a store file is: the file's identity, its listed size and where the part starts in it. */
function fileWhat(identity: string, size: number | undefined, fileOffset: number): string {
  return `${identity} ${size ?? -1} ${fileOffset}`;
}

/** A span's description: its length, then a line per part with its place in the span, length and what it is. */
function spanDescription(length: number, partLines: string): Uint8Array {
  return createHash('sha256').update(`described span 1 ${length}\n${partLines}`).digest();
}

function partLine(at: number, length: number, what: string): string {
  return `${at} ${length} ${what}\n`;
}

interface Part {
  readonly segment: Segment;
  /** "<identity> <offset in the file>" or "bytes <sha256>". */
  readonly what: string;
  /** The part begins a file or a byte segment: a place a span may end before. */
  readonly candidate: boolean;
}

/** A segment's parts, or undefined when its bytes cannot be described. */
function partsOf(segment: Segment, identify: FileIdentity): Part[] | undefined {
  const source = segment.source;
  if (source.kind === 'lazy') return undefined;
  if (source.kind === 'bytes') {
    const parts: Part[] = [];
    for (let done = 0; done < segment.length; done += SPLIT) {
      const bytes = source.bytes.subarray(done, Math.min(segment.length, done + SPLIT));
      parts.push({
        segment: { offset: segment.offset + done, length: bytes.length, source: { kind: 'bytes', bytes } },
        what: `bytes ${createHash('sha256').update(bytes).digest('hex')}`,
        candidate: done === 0,
      });
    }
    return parts;
  }
  const identity = identify(source.path);
  if (identity === undefined) return undefined;
  if (source.offset % SPLIT + segment.length <= SPLIT) {
    // One part: the segment itself (most files of a closure).
    return [{ segment, what: fileWhat(identity, source.size, source.offset), candidate: source.offset === 0 }];
  }
  const parts: Part[] = [];
  let done = 0;
  while (done < segment.length) {
    const fileOffset = source.offset + done;
    const take = Math.min(segment.length - done, SPLIT - (fileOffset % SPLIT));
    parts.push({
      segment: { offset: segment.offset + done, length: take, source: { ...source, offset: fileOffset } },
      what: fileWhat(identity, source.size, fileOffset),
      candidate: fileOffset === 0,
    });
    done += take;
  }
  return parts;
}

export function checkSpanRule(rule: DescribedSpanRule): void {
  if (!Number.isSafeInteger(rule.maximum) || rule.maximum < SPLIT || !Number.isSafeInteger(rule.minimum) || rule.minimum < 1 || rule.minimum > rule.maximum) {
    throw new UsageError('spans.rule', `Cannot cut described spans of ${rule.minimum} to ${rule.maximum} bytes: the maximum must be at least ${SPLIT}`);
  }
}

/**
 * The image's segments in order, as spans: described ones (files of the closure and
 * in-memory bytes, cut by the rule) and undescribed ones (one segment each).
 */
export function* describedSpans(segments: Iterable<Segment>, identify: FileIdentity, rule: DescribedSpanRule): Generator<Span> {
  checkSpanRule(rule);
  const mask = (1 << CANDIDATE_BITS) - 1;
  let group: Part[] = [];
  /** Ends the span; it takes the zeros up to `next` (the next span's start) when they are few. */
  const flush = (next?: number): Span | undefined => {
    if (group.length === 0) return undefined;
    const start = group[0]!.segment.offset;
    const last = group.at(-1)!.segment;
    let end = last.offset + last.length;
    if (next !== undefined && next - end < MAX_GAP && next - start <= rule.maximum) end = next;
    let lines = '';
    const spanSegments: Segment[] = [];
    for (const part of group) {
      lines += partLine(part.segment.offset - start, part.segment.length, part.what);
      spanSegments.push(part.segment);
    }
    const span: Span = { start, end, segments: spanSegments, description: spanDescription(end - start, lines) };
    group = [];
    return span;
  };
  for (const segment of segments) {
    if (segment.length === 0) continue;
    const parts = partsOf(segment, identify);
    if (parts === undefined) {
      const span = flush();
      if (span !== undefined) yield span;
      yield { start: segment.offset, end: segment.offset + segment.length, segments: [segment], description: undefined };
      continue;
    }
    for (const part of parts) {
      const first = group[0]?.segment;
      const last = group.at(-1)?.segment;
      if (first !== undefined && last !== undefined) {
        const held = last.offset + last.length - first.offset;
        const gap = part.segment.offset - (last.offset + last.length);
        const end = part.segment.offset + part.segment.length - first.offset;
        if (gap >= MAX_GAP || end > rule.maximum || (held >= rule.minimum && part.candidate && (fnv1a(part.what) & mask) === 0)) {
          yield flush(part.segment.offset)!;
        }
      }
      group.push(part);
    }
  }
  const span = flush();
  if (span !== undefined) yield span;
}

/** Bytes of a file of the closure: `length` at `offset` of `path`, listed with `size` bytes. */
export interface FilePart {
  readonly path: string;
  readonly size: number;
  readonly offset: number;
  readonly length: number;
}

/** A span describedSpans is sure to make of one part of a file alone, wherever the file lies. */
export interface LonePart {
  /** Where the part starts in the file (a multiple of SPLIT); it holds SPLIT bytes. */
  readonly fileOffset: number;
  readonly description: Uint8Array;
}

/**
 * The parts of a store file of `size` bytes that are spans of their own under `rule`
 * whenever the file's data lies in one piece: those after a whole part and before another
 * whole part (or before a tail too long to join them), since two whole parts never share a
 * span. Their descriptions are known from the file's identity alone, before any layout, so
 * a compressor can make them ahead (chunked-sink.ts anticipate). A file split across
 * extents gives other spans there; what was made ahead for them is then not used.
 */
export function loneParts(identity: string, size: number, rule: DescribedSpanRule): LonePart[] {
  checkSpanRule(rule);
  if (rule.maximum >= 2 * SPLIT) return [];
  const whole = Math.floor(size / SPLIT);
  const tail = size - whole * SPLIT;
  const parts: LonePart[] = [];
  for (let k = 1; k < whole; k++) {
    const followedByWhole = k + 1 < whole;
    if (!followedByWhole && !(tail > 0 && SPLIT + tail > rule.maximum)) continue;
    const fileOffset = k * SPLIT;
    parts.push({ fileOffset, description: spanDescription(SPLIT, partLine(0, SPLIT, fileWhat(identity, size, fileOffset))) });
  }
  return parts;
}
