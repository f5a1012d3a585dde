/**
 * The sparse block-image abstraction every container consumes. An image is a size plus
 * an ordered list of segments; each segment says where its bytes come from (memory, a
 * file of the closure, or a producer run only when the bytes are needed). Everything
 * outside the segments reads as zeros. Filesystems produce images, partition tables
 * place images inside a disk image, and containers (raw, qcow2, ...) read them once, in
 * order, so no full-size intermediate ever exists.
 */
import { closeSync } from 'node:fs';
import { ImageError } from './errors.js';
import { openListedFile, readExactly } from './listed-file.js';

export type ByteSource =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  /** `path` is a byte string (latin1), so any file name round-trips. */
  | { readonly kind: 'file'; readonly path: string; readonly offset: number; /** The size the file was listed with (checked when it is opened). */ readonly size?: number }
  | { readonly kind: 'lazy'; readonly produce: () => Uint8Array };

export interface Segment {
  readonly offset: number;
  readonly length: number;
  readonly source: ByteSource;
}

/** A stretch of an image, without its bytes. */
export interface Extent {
  readonly offset: number;
  readonly length: number;
}

export interface BlockImage {
  readonly size: number;
  /** Non-overlapping segments in ascending offset order. */
  segments(): Iterable<Segment>;
  /**
   * The stretches the segments cover, ascending and apart, when the image can list them
   * more cheaply than its segments (an ext4 image without walking its tree): a writer that
   * only needs where the data is (a qcow2 stream's mapping) reads these instead.
   */
  coverage?(): Iterable<Extent>;
}

/** Where an image's data is: its coverage when it lists one, else its segments. */
export function coverageOf(image: BlockImage): Iterable<Extent> {
  return image.coverage?.() ?? image.segments();
}

export function bytesSegment(offset: number, bytes: Uint8Array): Segment {
  return { offset, length: bytes.length, source: { kind: 'bytes', bytes } };
}

export function lazySegment(offset: number, length: number, produce: () => Uint8Array): Segment {
  return { offset, length, source: { kind: 'lazy', produce } };
}

/** An image whose segments are known up front (small metadata-only images, tests). */
export function imageFromSegments(size: number, segments: readonly Segment[]): BlockImage {
  const sorted = [...segments].sort((a, b) => a.offset - b.offset);
  checkSegments(size, sorted);
  return { size, segments: () => sorted };
}

export function imageFromBytes(bytes: Uint8Array): BlockImage {
  return imageFromSegments(bytes.length, [bytesSegment(0, bytes)]);
}

/** The segments as they come, failing at one that overlaps the one before or passes `size`. */
export function* checkedSegments(size: number, segments: Iterable<Segment>): Generator<Segment> {
  let end = 0;
  for (const s of segments) {
    if (s.length === 0) continue;
    if (s.offset < end || s.offset + s.length > size) {
      throw new ImageError(
        'image.segment-order',
        `Internal error: segment at ${s.offset} (+${s.length}) overlaps the previous one ending at ${end} or the image size ${size}`,
      );
    }
    end = s.offset + s.length;
    yield s;
  }
}

function checkSegments(size: number, segments: Iterable<Segment>): void {
  for (const _ of checkedSegments(size, segments)) { /* validation only */ }
}

export interface Placement {
  readonly offset: number;
  readonly image: BlockImage;
}

/** Places child images at byte offsets inside a larger image (partitions in a disk). */
export function composeImage(size: number, placements: readonly Placement[]): BlockImage {
  const sorted = [...placements].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    const next = sorted[i + 1];
    if (p.offset + p.image.size > (next?.offset ?? size)) {
      throw new ImageError('image.placement-overlap', `Internal error: image placed at ${p.offset} (${p.image.size} bytes) overlaps the next placement or the end ${size}`);
    }
  }
  return {
    size,
    *segments() {
      for (const p of sorted) {
        for (const s of p.image.segments()) yield { offset: s.offset + p.offset, length: s.length, source: s.source };
      }
    },
    *coverage() {
      for (const p of sorted) {
        for (const e of coverageOf(p.image)) yield { offset: e.offset + p.offset, length: e.length };
      }
    },
  };
}

/** A fixed-size window of the image, for writers that work in clusters or blocks. */
export interface Window {
  /** Window number: the window covers [index * size, (index + 1) * size). */
  readonly index: number;
  /** The window's bytes; the buffer is reused, so consume it before asking for the next. */
  readonly data: Uint8Array;
}

/**
 * Reads segments' bytes, keeping the last file open: segments are read in order, and
 * consecutive ones often come from one file. A produced segment is made once.
 */
export class SegmentReader {
  private openPath: string | undefined;
  private openFd = -1;
  private producedFor: Segment | undefined;
  private produced: Uint8Array | undefined;

  /** Copies `segment`'s bytes [from, from + length) into `into` at `at`. */
  read(segment: Segment, from: number, length: number, into: Uint8Array, at: number): void {
    const source = segment.source;
    switch (source.kind) {
      case 'bytes':
        into.set(source.bytes.subarray(from, from + length), at);
        return;
      case 'lazy': {
        if (this.producedFor !== segment) {
          this.produced = source.produce();
          this.producedFor = segment;
          if (this.produced.length !== segment.length) {
            throw new ImageError('image.lazy-length', `Internal error: a producer returned ${this.produced.length} bytes for a ${segment.length}-byte segment`);
          }
        }
        into.set(this.produced!.subarray(from, from + length), at);
        return;
      }
      case 'file':
        if (this.openPath !== source.path) {
          this.close();
          this.openFd = openListedFile(source.path, source.size);
          this.openPath = source.path;
        }
        readExactly(this.openFd, source.path, into, at, length, source.offset + from);
    }
  }

  close(): void {
    if (this.openFd >= 0) closeSync(this.openFd);
    this.openFd = -1;
    this.openPath = undefined;
    this.producedFor = undefined;
    this.produced = undefined;
  }
}

/**
 * Reads the image once, in order, and yields every window that any segment touches.
 * Windows no segment touches are skipped: they are zeros. The last window is zero-padded.
 */
export function* readWindows(image: BlockImage, windowSize: number): Generator<Window> {
  const buffer = new Uint8Array(windowSize);
  let current = -1;
  const reader = new SegmentReader();
  try {
    for (const segment of checkedSegments(image.size, image.segments())) {
      let done = 0;
      while (done < segment.length) {
        const position = segment.offset + done;
        const index = Math.floor(position / windowSize);
        if (index !== current) {
          if (current >= 0) yield { index: current, data: buffer };
          buffer.fill(0);
          current = index;
        }
        const inWindow = position - index * windowSize;
        const take = Math.min(segment.length - done, windowSize - inWindow);
        reader.read(segment, done, take, buffer, inWindow);
        done += take;
      }
    }
    if (current >= 0) yield { index: current, data: buffer };
  } finally {
    reader.close();
  }
}

const ZEROS = new Uint8Array(1 << 20);

export function isAllZero(data: Uint8Array): boolean {
  for (let at = 0; at < data.length; at += ZEROS.length) {
    const part = data.subarray(at, Math.min(data.length, at + ZEROS.length));
    if (Buffer.compare(part, ZEROS.subarray(0, part.length)) !== 0) return false;
  }
  return true;
}

/** Materialises a whole image in memory; for tests and small metadata images only. */
export function readAll(image: BlockImage): Uint8Array {
  const out = new Uint8Array(image.size);
  const windowSize = 1 << 16;
  for (const w of readWindows(image, windowSize)) {
    const at = w.index * windowSize;
    out.set(w.data.subarray(0, Math.min(windowSize, image.size - at)), at);
  }
  return out;
}
