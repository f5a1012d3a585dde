/**
 * Content-defined cuts: chunks stay within their bounds, the cuts do not depend on how the
 * bytes are fed, and after bytes are inserted or changed the later cuts fall where they
 * did before (shifted), so the later chunks are the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentCuts, contentCutsAround } from '../../src/compress/content-cuts.js';
import { seededBytes } from '../container/fixtures.js';

const OPTIONS = contentCutsAround(64 * 1024);

/** The chunks of `data` fed in pieces of `piece` bytes (0: the whole at once). */
function chunksOf(data: Uint8Array, piece: number): Uint8Array[] {
  const cuts = new ContentCuts(OPTIONS);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (let at = 0; at < data.length;) {
    const to = piece === 0 ? data.length : Math.min(data.length, at + piece);
    let from = at;
    while (from < to) {
      const taken = cuts.scan(data, from, to);
      if (taken === undefined) {
        from = to;
        break;
      }
      from += taken;
      chunks.push(data.subarray(start, from));
      start = from;
    }
    at = to;
  }
  if (start < data.length) chunks.push(data.subarray(start));
  return chunks;
}

const key = (chunk: Uint8Array): string => Buffer.from(chunk).toString('base64');

test('chunks are within their bounds and the same however the bytes are fed', () => {
  const data = seededBytes(1, 3 << 20);
  const whole = chunksOf(data, 0);
  assert.ok(whole.length > 20, `${whole.length} chunks`);
  for (const chunk of whole.slice(0, -1)) assert.ok(chunk.length >= OPTIONS.minimum && chunk.length <= OPTIONS.maximum, `a chunk of ${chunk.length}`);
  const average = data.length / whole.length;
  // Two thirds of the size on average: half of it, then a possible cut every sixth.
  assert.ok(average > 36 * 1024 && average < 52 * 1024, `average ${average}`);
  for (const piece of [1, 4095, 65536, 100_003]) assert.deepEqual(chunksOf(data, piece).map((c) => c.length), whole.map((c) => c.length), `pieces of ${piece}`);
  // Zeros never hash to a cut: chunks of them are cut at the maximum.
  assert.deepEqual(chunksOf(new Uint8Array(3 * OPTIONS.maximum), 0).map((c) => c.length), [OPTIONS.maximum, OPTIONS.maximum, OPTIONS.maximum]);
});

test('after bytes are inserted in the middle, the chunks after the change are the same bytes', () => {
  const data = seededBytes(2, 4 << 20);
  const at = 1 << 20;
  const changed = new Uint8Array(data.length + 5000);
  changed.set(data.subarray(0, at));
  changed.set(seededBytes(3, 5000), at);
  changed.set(data.subarray(at), at + 5000);
  const before = new Set(chunksOf(data, 0).map(key));
  const after = chunksOf(changed, 7777);
  const kept = after.filter((chunk) => before.has(key(chunk))).length;
  assert.ok(after.length - kept <= 3, `${after.length - kept} of ${after.length} chunks are new`);
  // With fixed 64 KiB chunks every chunk after the change would be new.
  assert.ok(kept > after.length / 2);
});
