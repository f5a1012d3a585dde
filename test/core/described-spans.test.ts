import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSegment, lazySegment, type Segment } from '../../src/core/block-image.js';
import { describedSpans, loneParts, SPLIT, type DescribedSpanRule, type Span } from '../../src/core/described-spans.js';
import { UsageError } from '../../src/core/errors.js';
import { seededInts } from '../container/fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const RULE: DescribedSpanRule = { maximum: 1.5 * MiB, minimum: 0.5 * MiB };
const identify = (path: string): string | undefined => (path.startsWith('/store/') ? `nar:${path}` : undefined);

interface FileSpec {
  readonly path: string;
  readonly size: number;
}

/** Files one after another from `start`, each at a 4 KiB block, as ext4 lays out a store path's data. */
function fileSegments(files: readonly FileSpec[], start: number): Segment[] {
  const segments: Segment[] = [];
  let at = start;
  for (const { path, size } of files) {
    segments.push({ offset: at, length: size, source: { kind: 'file', path, offset: 0, size } });
    at += Math.ceil(size / (4 * KiB)) * 4 * KiB;
  }
  return segments;
}

function someFiles(seed: number, count: number, prefix: string): FileSpec[] {
  const next = seededInts(seed);
  return Array.from({ length: count }, (_, i) => ({ path: `${prefix}/f${i}`, size: i === 40 ? 5 * MiB + 123 : 1 + next(300 * KiB) }));
}

function spansOf(segments: readonly Segment[]): Span[] {
  return [...describedSpans(segments, identify, RULE)];
}

const hex = (span: Span): string => Buffer.from(span.description ?? []).toString('hex');

test('described spans cover every byte once, in order, within the rule; files are cut at each MiB of their own offsets', () => {
  const files = someFiles(1, 120, '/store/aaa-payload');
  const segments = [
    bytesSegment(0, new Uint8Array(4 * KiB).fill(7)),
    lazySegment(4 * KiB, 8 * KiB, () => new Uint8Array(8 * KiB)),
    ...fileSegments(files, 64 * KiB),
  ];
  const spans = spansOf(segments);
  let covered = 0;
  let end = 0;
  for (const span of spans) {
    assert.ok(span.start >= end, 'spans are in order and do not overlap');
    end = span.end;
    for (const s of span.segments) covered += s.length;
    if (span.description === undefined) {
      assert.equal(span.segments.length, 1);
      assert.equal(span.segments[0]!.source.kind, 'lazy', 'only what cannot be described is left undescribed');
      continue;
    }
    assert.ok(span.end - span.start <= RULE.maximum, `a span of ${span.end - span.start} bytes`);
    for (const s of span.segments) {
      assert.notEqual(s.source.kind, 'lazy');
      if (s.source.kind === 'file') {
        // A part never crosses a multiple of SPLIT of its file.
        assert.equal(Math.floor(s.source.offset / SPLIT), Math.floor((s.source.offset + s.length - 1) / SPLIT));
      }
    }
  }
  assert.equal(covered, segments.reduce((sum, s) => sum + s.length, 0));
  assert.ok(spans.filter((s) => s.description !== undefined).length > 10);
  assert.deepEqual(spansOf(segments).map(hex), spans.map(hex), 'the same segments give the same spans');
});

test('after a file is inserted or changed, the spans before and after the change are found again', () => {
  const files = someFiles(2, 400, '/store/bbb-payload');
  const before = new Set(spansOf(fileSegments(files, 0)).map(hex));
  const inserted = [...files.slice(0, 100), { path: '/store/ccc-new/file', size: 50 * KiB + 3 }, ...files.slice(100)];
  const changed = files.map((f, i) => (i === 200 ? { ...f, path: '/store/ddd-other/f200' } : f));
  for (const [name, variant] of [['inserted', inserted], ['changed', changed]] as const) {
    // Shifted by a whole number of blocks too: offsets do not matter, only what is where in a span.
    const after = spansOf(fileSegments(variant, 40 * 4 * KiB));
    const missing = after.filter((s) => !before.has(hex(s)));
    assert.ok(after.length > 40, name);
    assert.ok(missing.length >= 1 && missing.length <= 3, `${name}: ${missing.length} of ${after.length} spans are new`);
  }
});

test('a file outside the closure, a produced segment or a gap of a block ends a span; a large byte segment is cut too', () => {
  const files = someFiles(3, 30, '/store/eee-x');
  const inside = fileSegments(files, 0);
  const outsider: Segment = { offset: inside.at(-1)!.offset + 512 * KiB, length: 10 * KiB, source: { kind: 'file', path: '/etc/other', offset: 0, size: 10 * KiB } };
  const later = fileSegments(someFiles(4, 5, '/store/fff-y'), outsider.offset + 64 * KiB);
  const big = bytesSegment(later.at(-1)!.offset + 2 * MiB, new Uint8Array(3 * MiB + 5).fill(1));
  const spans = spansOf([...inside, outsider, ...later, big]);
  const undescribed = spans.filter((s) => s.description === undefined);
  assert.deepEqual(undescribed.map((s) => s.segments[0]), [outsider]);
  for (const span of spans) {
    if (span.description === undefined) continue;
    const files = new Set(span.segments.map((s) => (s.source.kind === 'file' ? s.source.path.split('/')[2] : 'bytes')));
    assert.equal(files.size, 1, 'no span joins segments a block or more apart');
  }
  assert.equal(spans.flatMap((s) => s.segments).filter((s) => s.source.kind === 'bytes').length, 4, 'the 3 MiB of bytes in four parts');
});

test('a rule whose maximum is below the file split is refused', () => {
  assert.throws(() => [...describedSpans([], identify, { maximum: MiB - 1, minimum: 1 })], UsageError);
});

test('lone parts: each is a span of its own wherever its file lies, with the description the spans give it', () => {
  const next = seededInts(5);
  // Tails of none, a few bytes, half a part and more than half (the last whole part is lone only then).
  const large = [5 * MiB, 5 * MiB + 123, 4 * MiB + MiB / 2, 4 * MiB + MiB / 2 + 1, 3 * MiB, 2 * MiB + 700 * KiB, 2 * MiB].map((size, i) => ({ path: `/store/ggg-big/f${i}`, size }));
  for (let round = 0; round < 20; round++) {
    const files = someFiles(10 + round, 30, `/store/hhh-${round}`);
    // The large files among small ones, at random places.
    for (const file of large) files.splice(next(files.length + 1), 0, file);
    const spans = new Map(spansOf(fileSegments(files, next(64) * 4 * KiB)).map((span) => [hex(span), span]));
    for (const file of large) {
      const parts = loneParts(identify(file.path)!, file.size, RULE);
      const whole = Math.floor(file.size / SPLIT);
      const tail = file.size - whole * SPLIT;
      assert.equal(parts.length, Math.max(0, whole - 2) + (whole >= 2 && tail > RULE.maximum - SPLIT ? 1 : 0), `${file.size} bytes`);
      for (const part of parts) {
        const span = spans.get(Buffer.from(part.description).toString('hex'));
        assert.ok(span !== undefined, `part ${part.fileOffset} of ${file.size} bytes is a span of the stream`);
        assert.equal(span.end - span.start, SPLIT);
        assert.deepEqual(span.segments.map((s) => s.source.kind === 'file' ? [s.source.path, s.source.offset, s.length] : []), [[file.path, part.fileOffset, SPLIT]]);
      }
    }
  }
  assert.deepEqual(loneParts('x', 50 * MiB, { maximum: 2 * MiB, minimum: MiB }), [], 'a rule that puts two whole parts in a span has none');
});
