import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, zstdCompressSync } from 'node:zlib';
import { readFrameHeader, zstdFrameBound } from '../../src/compress/zstd-frame.js';
import { zstdSink } from '../../src/compress/zstd.js';
import { UsageError } from '../../src/core/errors.js';
import { seededBytes } from '../container/fixtures.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import {
  assertAbortAndTargetFailure, assertCachedContentUnits, assertDependsOnlyOnBytes, compressMixedToFile, compressToFile, HashSink, KiB, MiB, mixedBlock, rssGrowthCompressing1GiB,
  sha256, sha256Of, shell, writePieces,
} from './fixtures.js';

const CHUNK = 64 * KiB;

/** `zstd -lv` of a file: frame count, and whether every frame has a checksum. */
function zstdList(path: string): { frames: number; check: string; decompressed: string } {
  const text = runOk('zstd', ['-lv', path]).stdout;
  return {
    frames: Number(/# Zstandard Frames: (\d+)/.exec(text)?.[1]),
    check: /Check: (\S+)/.exec(text)?.[1] ?? '',
    decompressed: /Decompressed Size: .*\((\d+) B\)/.exec(text)?.[1] ?? '',
  };
}

/** Walks the frames of a file (headers, then block headers to each frame's end). */
function frameHeaders(path: string): { contentSize: number | undefined; checksum: boolean }[] {
  const file = readFileSync(path);
  const headers: { contentSize: number | undefined; checksum: boolean }[] = [];
  let at = 0;
  while (at < file.length) {
    const header = readFrameHeader(file.subarray(at));
    headers.push({ contentSize: header.contentSize, checksum: header.checksum });
    const descriptor = file[at + 4]!;
    const fcsFlag = descriptor >>> 6;
    const single = (descriptor & 0x20) !== 0;
    const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
    const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
    at += 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
    for (;;) {
      const blockHeader = file[at]! | (file[at + 1]! << 8) | (file[at + 2]! << 16);
      const last = blockHeader & 1;
      const type = (blockHeader >>> 1) & 3;
      const size = blockHeader >>> 3;
      at += 3 + (type === 1 ? 1 : size); // an RLE block stores one byte
      if (last === 1) break;
    }
    if (header.checksum) at += 4;
  }
  return headers;
}

test('zstd round trips through zstd -dc at empty, tiny and chunk-boundary sizes, one frame per chunk', async () => {
  const dir = tempDir('zstd');
  try {
    const source = mixedBlock(7, 3 * CHUNK + 100);
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17]) {
      const data = source.subarray(0, size);
      const path = await compressToFile(dir.path, `s${size}.zst`, (t) => zstdSink(t, { chunkSize: CHUNK }), (s) => writePieces(s, data, 10_000));
      runOk('zstd', ['-t', '-q', path]);
      assert.equal(sha256Of(`zstd -dc ${path}`), sha256(data), `zstd -dc, ${size} bytes`);
      const expected = size === 0 ? [0] : Array.from({ length: Math.ceil(size / CHUNK) }, (_, i) => Math.min(CHUNK, size - i * CHUNK));
      const headers = frameHeaders(path);
      assert.deepEqual(headers.map((h) => h.contentSize), expected, `frame content sizes for ${size} bytes`);
      assert.ok(headers.every((h) => h.checksum), 'every frame carries a content checksum');
      const listed = zstdList(path);
      assert.equal(listed.frames, expected.length);
      assert.equal(listed.check, 'XXH64');
      assert.equal(listed.decompressed, String(size), 'zstd -l knows the size from the frame headers');
    }
  } finally {
    dir.remove();
  }
});

test('zstd without checksums is valid too, and default frames are 1 MiB at level 3', async () => {
  const dir = tempDir('zstd');
  try {
    const data = mixedBlock(4, 2 * MiB + 3);
    const plain = await compressToFile(dir.path, 'plain.zst', (t) => zstdSink(t, { checksum: false }), (s) => writePieces(s, data, MiB));
    runOk('zstd', ['-t', '-q', plain]);
    assert.equal(sha256Of(`zstd -dc ${plain}`), sha256(data));
    assert.deepEqual(frameHeaders(plain), [
      { contentSize: MiB, checksum: false }, { contentSize: MiB, checksum: false }, { contentSize: 3, checksum: false },
    ]);
    assert.equal(zstdList(plain).check, 'None');
    const checked = await compressToFile(dir.path, 'checked.zst', (t) => zstdSink(t), (s) => writePieces(s, data, MiB));
    assert.equal(readFileSync(checked).length, readFileSync(plain).length + 3 * 4, 'a checksum adds 4 bytes per frame');
    // A level-3 frame is about what `zstd -3` makes of the same 1 MiB.
    const chunk = data.subarray(0, MiB);
    writeFileSync(join(dir.path, 'chunk'), chunk);
    const reference = shell(`zstd -q -3 --no-check -c ${join(dir.path, 'chunk')} | wc -c`).trim();
    const one = new HashSink();
    const sink = zstdSink(one, { checksum: false });
    await sink.write(chunk);
    await sink.close();
    const ratio = one.position / Number(reference);
    assert.ok(ratio > 0.95 && ratio < 1.05, `one frame is within 5% of zstd -3 (${one.position} vs ${reference} bytes)`);
  } finally {
    dir.remove();
  }
});

test('every frame is what Node\'s one-shot zstd makes of its chunk: the reused encoder carries nothing from frame to frame', async () => {
  const dir = tempDir('zstd');
  try {
    // Compressible and incompressible chunks alternate, so state left by one would change the next.
    const data = Buffer.concat([mixedBlock(3, 2 * CHUNK), seededBytes(9, CHUNK), mixedBlock(5, CHUNK + 321)]);
    for (const [level, checksum] of [[3, true], [9, false]] as const) {
      const path = await compressToFile(dir.path, `l${level}.zst`, (t) => zstdSink(t, { chunkSize: CHUNK, level, checksum, threads: 1 }), (s) => writePieces(s, data, 50_000));
      const oneShot = [];
      for (let at = 0; at < data.length; at += CHUNK) {
        const chunk = data.subarray(at, Math.min(at + CHUNK, data.length));
        oneShot.push(zstdCompressSync(chunk, {
          pledgedSrcSize: chunk.length,
          chunkSize: zstdFrameBound(chunk.length),
          params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0 },
        }));
      }
      assert.equal(sha256(readFileSync(path)), sha256(Buffer.concat(oneShot)), `level ${level}, checksum ${checksum}`);
    }
  } finally {
    dir.remove();
  }
});

test('200 MiB of mixed data round trip through zstd -dc', async () => {
  const dir = tempDir('zstd');
  try {
    const { path, input } = await compressMixedToFile(dir.path, 'big.zst', (t) => zstdSink(t), 200 * MiB + 12345);
    runOk('zstd', ['-t', '-q', path]);
    assert.equal(sha256Of(`zstd -dc ${path}`), input);
    assert.equal(zstdList(path).frames, 201, "one frame per MiB");
  } finally {
    dir.remove();
  }
});

test('zstd output depends only on the bytes: not on write sizes or thread counts', () =>
  assertDependsOnlyOnBytes((target, options) => zstdSink(target, options), CHUNK));

test('zstd memory stays bounded while compressing 1 GiB', async (t) => {
  // The warm-up byte keeps the workers' start-up out of the baseline.
  const growth = await rssGrowthCompressing1GiB(t, (target) => zstdSink(target), true);
  assert.ok(growth < 256, `RSS grew by ${growth.toFixed(0)} MiB while compressing 1 GiB`);
});

test('zstd options are checked; abort stops the workers and refuses writes', async () => {
  assert.throws(() => zstdSink(new HashSink(), { level: 0 }), UsageError);
  assert.throws(() => zstdSink(new HashSink(), { level: 20 }), UsageError);
  assert.throws(() => zstdSink(new HashSink(), { chunkSize: 1 << 30 }), UsageError);
  assert.throws(() => zstdSink(new HashSink(), { threads: 1.5 }), UsageError);
  assert.throws(() => zstdSink(new HashSink(), { checksum: 'yes' } as never), UsageError);
  assert.throws(() => zstdSink(new HashSink(), { long: true } as never), UsageError);

  await assertAbortAndTargetFailure((target, options) => zstdSink(target, options), CHUNK);
});

test('zstd -t rejects corrupted frames; the checksum catches a flip decoding cannot see (negative control)', async () => {
  const dir = tempDir('zstd');
  try {
    const data = mixedBlock(9, 2 * CHUNK);
    const path = await compressToFile(dir.path, 'c.zst', (t) => zstdSink(t, { chunkSize: CHUNK }), (s) => s.write(data));
    const clean = readFileSync(path);
    let caught = 0;
    for (let i = 20; i < 220; i += 10) {
      const bytes = Buffer.from(clean);
      bytes[i]! ^= 0x01;
      const file = join(dir.path, `flip${i}.zst`);
      writeFileSync(file, bytes);
      if (run('zstd', ['-t', '-q', file]).status !== 0) caught++;
    }
    assert.equal(caught, 20, 'every flipped byte is detected');

    // Random bytes are stored as a raw block: a flip there still decodes, to other bytes.
    const random = seededBytes(10, CHUNK);
    for (const checksum of [false, true]) {
      const file = await compressToFile(dir.path, `raw-${checksum}.zst`, (t) => zstdSink(t, { chunkSize: CHUNK, checksum }), (s) => s.write(random));
      const bytes = readFileSync(file);
      bytes[bytes.length - 1000]! ^= 0x01;
      writeFileSync(file, bytes);
      const result = run('zstd', ['-t', '-q', file]);
      if (checksum) {
        assert.notEqual(result.status, 0, 'with the checksum, zstd -t reports the flip');
        assert.match(result.stderr, /checksum/i);
      } else {
        assert.equal(result.status, 0, 'without the checksum the flip goes unnoticed (why it is on by default)');
      }
    }
  } finally {
    dir.remove();
  }
});

test('content boundaries: frames end where the content says; the cache gives the same bytes and after a change finds the frames after it', async () => {
  const dir = tempDir('zstd');
  try {
    const { path, units } = await assertCachedContentUnits(dir.path, 'zst', (t, cache) => zstdSink(t, { chunkSize: CHUNK, level: 1, boundaries: 'content', cache }), (p) => `zstd -dc ${p}`);
    runOk('zstd', ['-t', path]);
    const frames = frameHeaders(path).map((h) => h.contentSize ?? 0);
    assert.equal(frames.length, units);
    assert.ok(frames.slice(0, -1).every((size) => size >= CHUNK / 2 && size <= CHUNK * 1.5), `frames ${frames.join(' ')}`);
    assert.ok(frames.filter((size) => size < CHUNK * 1.5).length > frames.length / 4, `cut by content, not only at the maximum: ${frames.join(' ')}`);
  } finally {
    dir.remove();
  }
});
