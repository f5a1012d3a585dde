import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { zstdSingleFrameSink } from '../../src/compress/zstd-single-frame.js';
import { UsageError } from '../../src/core/errors.js';
import { runOk, tempDir } from '../helpers/run.js';
import { assertAbortAndTargetFailure, assertDependsOnlyOnBytes, compressMixedToFile, compressToFile, KiB, MiB, sha256Of } from './fixtures.js';

const make = (level: number) => (target: Parameters<typeof zstdSingleFrameSink>[0]) => zstdSingleFrameSink(target, { level });

test('one frame with a checksum, whatever the writes: zstd -lv counts one, zstd -t and -d read it back', async () => {
  const dir = tempDir('zstd-single');
  try {
    for (const [name, pieces] of [['empty', [] as number[]], ['small', [100, 200]], ['mixed', [1, 4 * KiB, 3 * MiB + 5, 100]]] as const) {
      const path = await compressToFile(dir.path, `${name}.zst`, make(10), async (sink) => {
        for (const size of pieces) await sink.write(new Uint8Array(size).fill(size & 0xff));
      });
      const listed = runOk('zstd', ['-lv', path]).stdout;
      assert.match(listed, /# Zstandard Frames: 1\n/, name);
      assert.match(listed, /Check: XXH64/, name);
      runOk('zstd', ['-t', path]);
      assert.equal(runOk('zstd', ['-dc', path]).stdout.length, pieces.reduce((a, b) => a + b, 0), name);
    }
    // 48 MiB: more than the point at which libzstd's worker threads made Node end the stream early.
    const { path, input } = await compressMixedToFile(dir.path, 'large.zst', make(10), 48 * MiB);
    assert.match(runOk('zstd', ['-lv', path]).stdout, /# Zstandard Frames: 1\n/);
    assert.equal(sha256Of(`zstd -dc '${path}'`), input);
    assert.ok(readFileSync(path).length < 48 * MiB, 'compressed');
  } finally {
    dir.remove();
  }
});

test('the bytes depend only on the input and the level', async () => {
  await assertDependsOnlyOnBytes((target) => zstdSingleFrameSink(target, { level: 10 }), 64 * KiB);
});

test('abort and a failing target', async () => {
  await assertAbortAndTargetFailure((target) => zstdSingleFrameSink(target, { level: 3 }), 64 * KiB);
});

test('a level outside 1 to 19 is refused with one line', () => {
  assert.throws(() => zstdSingleFrameSink({ position: 0, write: async () => undefined, close: async () => undefined }, { level: 20 }), (error) => error instanceof UsageError && /zstd level 20/.test(error.message));
});
