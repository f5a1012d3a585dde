import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { xzSink } from '../../src/compress/xz.js';
import { gzipSync } from 'node:zlib';
import { UsageError } from '../../src/core/errors.js';
import { seededBytes } from '../container/fixtures.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { assertAbortAndTargetFailure, assertCachedContentUnits, assertDependsOnlyOnBytes, compressToFile, HashSink, KiB, MiB, mixedBlock, sha256, sha256Of, shell, writePieces, type MakeSink } from './fixtures.js';

const BLOCK = 64 * KiB;

/** The sink at preset 0, for the tests of framing and ordering: their outcome does not depend on the preset. */
const fastXz: MakeSink = (target, options) => xzSink(target, {
  preset: 0,
  ...(options.chunkSize === undefined ? {} : { blockSize: options.chunkSize }),
  ...(options.threads === undefined ? {} : { threads: options.threads }),
});

/** `xz -lvv --robot` of a file: its block sizes (uncompressed) and check. */
function xzList(path: string): { blocks: number[]; check: string } {
  const lines = runOk('xz', ['-lvv', '--robot', path]).stdout.split('\n').map((line) => line.split('\t'));
  return {
    blocks: lines.filter((f) => f[0] === 'block').map((f) => Number(f[7])),
    check: lines.find((f) => f[0] === 'stream')?.[8] ?? '',
  };
}

test('xz round trips through xz -dc at empty, tiny and block-boundary sizes, one block per chunk, CRC32 checked', async () => {
  const dir = tempDir('xz');
  try {
    const source = mixedBlock(7, 3 * BLOCK + 100);
    for (const size of [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17]) {
      const data = source.subarray(0, size);
      const path = await compressToFile(dir.path, `s${size}.xz`, (t) => xzSink(t, { blockSize: BLOCK, preset: 1 }), (s) => writePieces(s, data, 10_000));
      runOk('xz', ['-t', path]);
      assert.equal(sha256Of(`xz -dc ${path}`), sha256(data), `xz -dc, ${size} bytes`);
      const expected = size === 0 ? [] : Array.from({ length: Math.ceil(size / BLOCK) }, (_, i) => Math.min(BLOCK, size - i * BLOCK));
      const listed = xzList(path);
      assert.deepEqual(listed.blocks, expected, `block sizes for ${size} bytes`);
      assert.equal(listed.check, 'CRC32');
    }
  } finally {
    dir.remove();
  }
});

test('xz defaults: preset 6, an 8 MiB dictionary, 24 MiB blocks, within 1% of xz -6 -T', async () => {
  const dir = tempDir('xz');
  try {
    const data = Buffer.concat([mixedBlock(4, 20 * MiB), mixedBlock(5, 10 * MiB)]);
    const ours = await compressToFile(dir.path, 'ours.xz', (t) => xzSink(t), (s) => writePieces(s, data, 3 * MiB));
    assert.deepEqual(xzList(ours).blocks, [24 * MiB, 6 * MiB]);
    const header = runOk('xz', ['-lvv', ours]).stdout;
    assert.match(header, /--lzma2=dict=8MiB/);
    writeFileSync(join(dir.path, 'plain'), data);
    const reference = Number(shell(`xz -6 -T2 -c ${join(dir.path, 'plain')} | wc -c`).trim());
    const size = readFileSync(ours).length;
    assert.ok(Math.abs(size - reference) <= reference * 0.01, `ours ${size}, xz -6 ${reference}`);
  } finally {
    dir.remove();
  }
});

test('runs of random bytes are stored as LZMA2 uncompressed chunks: random files between tar headers, and gzip files, within 1% of xz -6', async () => {
  const dir = tempDir('xz');
  try {
    // A tar-like stream: 300 random files of 20 KiB + 300 bytes, each after a 512-byte header, padded to 512.
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const header = new Uint8Array(512);
      header.set(new TextEncoder().encode(`nix/store/${'h'.repeat(32)}-payload/file-${String(i).padStart(5, '0')}`));
      const body = seededBytes(100 + i, 20 * KiB + 300);
      parts.push(header, body, new Uint8Array((512 - (body.length % 512)) % 512));
    }
    // Many small gzip files in a row: each does not shrink alone, together they do (repeated headers and tables).
    for (let i = 0; i < 200; i++) parts.push(gzipSync(mixedBlock(i % 7, 3000 + i * 17)));
    parts.push(mixedBlock(3, 2 * MiB));
    const data = Buffer.concat(parts);
    const path = await compressToFile(dir.path, 'mixed.xz', (t) => xzSink(t), (s) => writePieces(s, data, MiB));
    runOk('xz', ['-t', path]);
    assert.equal(sha256Of(`xz -dc ${path}`), sha256(data));
    writeFileSync(join(dir.path, 'plain'), data);
    const reference = Number(shell(`xz -6 -T2 -c ${join(dir.path, 'plain')} | wc -c`).trim());
    const file = readFileSync(path);
    assert.ok(file.length <= reference * 1.01, `ours ${file.length}, xz -6 ${reference}`);
    // The first block's LZMA2 chunks: the random files went into uncompressed chunks.
    const stored = storedChunkBytes(file);
    assert.ok(stored >= 300 * 16 * KiB, `${stored} bytes in uncompressed chunks`);
    assert.ok(stored < data.length - 300 * 512, `${stored} bytes in uncompressed chunks: the headers are compressed`);
  } finally {
    dir.remove();
  }
});

/** Bytes in the LZMA2 uncompressed chunks of a stream's first block. */
function storedChunkBytes(file: Uint8Array): number {
  let at = 12 + (file[12]! + 1) * 4;
  let stored = 0;
  for (;;) {
    const control = file[at]!;
    if (control === 0x00) return stored;
    if (control === 0x01 || control === 0x02) {
      const size = ((file[at + 1]! << 8) | file[at + 2]!) + 1;
      stored += size;
      at += 3 + size;
    } else {
      assert.ok(control >= 0x80, `LZMA2 control byte ${control}`);
      const packed = ((file[at + 3]! << 8) | file[at + 4]!) + 1;
      at += 5 + (control >= 0xc0 ? 1 : 0) + packed;
    }
  }
}

test('xz output depends only on the bytes: not on write sizes or thread counts', () =>
  assertDependsOnlyOnBytes(fastXz, BLOCK));

test('xz options are checked; abort stops the workers and refuses writes', async () => {
  assert.throws(() => xzSink(new HashSink(), { preset: 10 }), (e: unknown) => e instanceof UsageError && /xz preset 10: expected a whole number from 0 to 9/.test(e.message));
  assert.throws(() => xzSink(new HashSink(), { dictionarySize: 5_000_000 }), (e: unknown) => e instanceof UsageError && /dictionary size 5000000/.test(e.message));
  assert.throws(() => xzSink(new HashSink(), { level: 3 } as never), (e: unknown) => e instanceof UsageError && /xz option "level"/.test(e.message));
  await assertAbortAndTargetFailure(fastXz, BLOCK);
});

test('xz -t rejects a flipped byte in a block (negative control)', async () => {
  const dir = tempDir('xz');
  try {
    const data = mixedBlock(9, 2 * BLOCK);
    const path = await compressToFile(dir.path, 'good.xz', (t) => xzSink(t, { blockSize: BLOCK, preset: 1 }), (s) => writePieces(s, data, BLOCK));
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1]! ^= 0x10;
    const bad = join(dir.path, 'bad.xz');
    writeFileSync(bad, bytes);
    assert.notEqual(run('xz', ['-t', bad]).status, 0);
  } finally {
    dir.remove();
  }
});

test('content boundaries: blocks end where the content says, within their bounds; the cache gives the same bytes and, after a change, finds the blocks after it', async () => {
  const dir = tempDir('xz');
  try {
    const { path, units } = await assertCachedContentUnits(dir.path, 'xz', (t, cache) => xzSink(t, { blockSize: BLOCK, preset: 1, boundaries: 'content', cache }), (p) => `xz -dc ${p}`);
    runOk('xz', ['-t', path]);
    const blocks = xzList(path).blocks;
    assert.equal(blocks.length, units);
    assert.ok(blocks.length > 20 && blocks.slice(0, -1).every((b) => b >= BLOCK / 2 && b <= BLOCK * 1.5), `blocks ${blocks.join(' ')}`);
    assert.ok(blocks.filter((b) => b < BLOCK * 1.5).length > blocks.length / 4, `cut by content, not only at the maximum: ${blocks.join(' ')}`);
  } finally {
    dir.remove();
  }
});
