/**
 * An image's data, in order, into a sequential sink, for the stream containers (raw and
 * qcow2 into a compressor). With `identify` and a sink that takes described spans (gzip
 * or zstd with content boundaries), the data goes over in spans (core/described-spans.ts):
 * a span the sink has in its cache is never read, its files never opened. What lies
 * between segments is the container's: zeros for a raw disk, zeros in allocated clusters
 * only for qcow2.
 */
import { checkedSegments, SegmentReader, type BlockImage } from '../core/block-image.js';
import { describedSpans, type FileIdentity, type Span } from '../core/described-spans.js';
import { checkpoint, type RunControl } from '../core/progress.js';
import type { ByteSink } from '../core/sink.js';
import type { CompressingSink } from '../compress/chunked-sink.js';

/** Bytes read at a time from a segment. */
const READ_SIZE = 1 << 20;
/** The data's progress is reported (and the caller may pause or cancel) every this many bytes of the image. */
const PROGRESS_STEP = 16 << 20;

/** A `moved` for streamImageData: `report` and a checkpoint every PROGRESS_STEP bytes of the image. */
export function progressEvery(control: RunControl, report: (at: number) => void): (at: number) => Promise<void> {
  let reported = 0;
  return async (at) => {
    if (at - reported < PROGRESS_STEP) return;
    reported = at;
    report(at);
    await checkpoint(control);
  };
}

export interface ImageStreamTarget {
  /** Appends bytes to the sink (the container may count them). */
  readonly write: (data: Uint8Array) => Promise<void>;
  /** Writes what the container has from `from` to `to`, where no segment is. */
  readonly fill: (from: number, to: number) => Promise<void>;
  /** After each piece written or placed, with the image offset reached. */
  readonly moved: (at: number) => Promise<void>;
}

/**
 * Writes the image's segments from offset `start` (the container's first data byte) to
 * `end` with what `target.fill` puts between them; returns the bytes the sink placed
 * from its cache instead of taking them.
 */
export async function streamImageData(image: BlockImage, sink: ByteSink, identify: FileIdentity | undefined, start: number, end: number, target: ImageStreamTarget): Promise<number> {
  let at = start;
  let placed = 0;
  const reader = new SegmentReader();
  const buffer = new Uint8Array(READ_SIZE);
  const fillTo = async (to: number): Promise<void> => {
    if (to > at) await target.fill(at, to);
    at = Math.max(at, to);
  };
  try {
    for (const span of imageSpans(image, sink, identify)) {
      await fillTo(span.start);
      if (span.description !== undefined && await (sink as CompressingSink).describe!(span.end - span.start, span.description)) {
        placed += span.end - span.start;
        at = span.end;
        await target.moved(at);
        continue;
      }
      for (const segment of span.segments) {
        await fillTo(segment.offset);
        for (let done = 0; done < segment.length; done += READ_SIZE) {
          const length = Math.min(READ_SIZE, segment.length - done);
          reader.read(segment, done, length, buffer, 0);
          await target.write(buffer.subarray(0, length));
          at = segment.offset + done + length;
          await target.moved(at);
        }
      }
      await fillTo(span.end);
    }
    await fillTo(end);
  } finally {
    reader.close();
  }
  return placed;
}

/**
 * The image's segments as spans: described ones where the sink takes them and `identify`
 * names the closure's files, else one span per segment.
 */
function imageSpans(image: BlockImage, sink: ByteSink, identify: FileIdentity | undefined): Iterable<Span> {
  const segments = checkedSegments(image.size, image.segments());
  const describing = sink as Partial<CompressingSink>;
  if (identify !== undefined && describing.describe !== undefined && describing.spanRule !== undefined) {
    return describedSpans(segments, identify, describing.spanRule);
  }
  return (function* plain(): Generator<Span> {
    for (const segment of segments) {
      if (segment.length > 0) yield { start: segment.offset, end: segment.offset + segment.length, segments: [segment], description: undefined };
    }
  })();
}
