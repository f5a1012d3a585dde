import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bytesSegment, composeImage, imageFromSegments, isAllZero, lazySegment, readAll, readWindows,
} from '../../src/core/block-image.js';
import { tempDir } from '../helpers/run.js';

test('readAll assembles bytes, lazy and file segments with zero gaps', () => {
  const dir = tempDir('block');
  try {
    const file = join(dir.path, 'f');
    writeFileSync(file, 'hello file');
    const image = imageFromSegments(64, [
      bytesSegment(2, Uint8Array.of(1, 2, 3)),
      lazySegment(10, 4, () => Uint8Array.of(9, 9, 9, 9)),
      { offset: 40, length: 10, source: { kind: 'file', path: file, offset: 0 } },
    ]);
    const all = readAll(image);
    assert.deepEqual(Array.from(all.subarray(0, 14)), [0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 9, 9, 9, 9]);
    assert.equal(Buffer.from(all.subarray(40, 50)).toString(), 'hello file');
    assert.ok(isAllZero(all.subarray(50)));
  } finally {
    dir.remove();
  }
});

test('readWindows skips windows no segment touches and splits segments across windows', () => {
  const image = imageFromSegments(100, [bytesSegment(5, new Uint8Array(20).fill(7)), bytesSegment(90, Uint8Array.of(1))]);
  const seen = [...readWindows(image, 8)].map((w) => w.index);
  assert.deepEqual(seen, [0, 1, 2, 3, 11]);
});

test('composeImage shifts child segments and rejects overlapping placements', () => {
  const child = imageFromSegments(4, [bytesSegment(1, Uint8Array.of(5))]);
  const disk = composeImage(16, [{ offset: 8, image: child }]);
  assert.equal(readAll(disk)[9], 5);
  assert.throws(() => composeImage(10, [{ offset: 8, image: child }]), /overlaps/);
});

test('overlapping segments are reported', () => {
  assert.throws(() => imageFromSegments(10, [bytesSegment(0, new Uint8Array(5)), bytesSegment(3, new Uint8Array(2))]), /overlaps/);
});
