import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { gzipSink } from '../../src/compress/gzip.js';
import { ImageError, UsageError } from '../../src/core/errors.js';
import { seededBytes, textBytes } from '../container/fixtures.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { compressToFile, feedMixed, HashSink, KiB, MiB, mixedBlock, sha256, sha256Of, shell, writePieces } from './fixtures.js';

const CHUNK = 64 * KiB;

/**
 * Walks a file of concatenated gzip members: each header (mtime 0, no name, OS 3), its
 * DEFLATE stream, and its trailer (CRC-32 and size of its content). Returns the member
 * sizes of uncompressed content.
 */
function members(file: Uint8Array): number[] {
  const sizes: number[] = [];
  let at = 0;
  while (at < file.length) {
    const n = sizes.length;
    assert.deepEqual([file[at], file[at + 1], file[at + 2]], [0x1f, 0x8b, 8], `member ${n}: magic and method`);
    assert.equal(file[at + 3], 0, `member ${n}: no FNAME, FCOMMENT, FEXTRA or FHCRC`);
    assert.deepEqual(Array.from(file.subarray(at + 4, at + 8)), [0, 0, 0, 0], `member ${n}: mtime 0`);
    assert.equal(file[at + 9], 3, `member ${n}: OS 3 (Unix)`);
    const { buffer, engine } = inflateRawSync(file.subarray(at + 10), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    const trailer = new DataView(file.buffer, file.byteOffset + at + 10 + engine.bytesWritten, 8);
    assert.equal(trailer.getUint32(0, true), crc32(buffer) >>> 0, `member ${n}: CRC-32`);
    assert.equal(trailer.getUint32(4, true), buffer.length, `member ${n}: ISIZE`);
    sizes.push(buffer.length);
    at += 10 + engine.bytesWritten + 8;
  }
  return sizes;
}

test('gzip round trips through gzip, zcat and Python at empty, tiny and chunk-boundary sizes', async () => {
  const dir = tempDir('gzip');
  try {
    const source = mixedBlock(7, 3 * CHUNK + 100);
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17]) {
      const data = source.subarray(0, size);
      const path = await compressToFile(dir.path, `s${size}.gz`, (t) => gzipSink(t, { chunkSize: CHUNK }), (s) => writePieces(s, data, 10_000));
      const expected = sha256(data);
      runOk('gzip', ['-t', path]);
      assert.equal(sha256Of(`gzip -dc ${path}`), expected, `gzip -dc, ${size} bytes`);
      assert.equal(sha256Of(`zcat ${path}`), expected, `zcat, ${size} bytes`);
      assert.equal(sha256Of(`python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())' ${path}`), expected, `python3 gzip, ${size} bytes`);
      const expectedSizes = size === 0 ? [0] : Array.from({ length: Math.ceil(size / CHUNK) }, (_, i) => Math.min(CHUNK, size - i * CHUNK));
      assert.deepEqual(members(readFileSync(path)), expectedSizes, `one member per ${CHUNK}-byte chunk of ${size} bytes`);
    }
  } finally {
    dir.remove();
  }
});

test('tar -xzf extracts a tar compressed by gzipSink', async () => {
  const dir = tempDir('gzip');
  try {
    const tree = join(dir.path, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'random.bin'), seededBytes(5, 3 * MiB + 7));
    writeFileSync(join(tree, 'sub', 'text.txt'), textBytes(2 * MiB, 'hello tar '));
    writeFileSync(join(tree, 'empty'), new Uint8Array(0));
    runOk('tar', ['-cf', join(dir.path, 'tree.tar'), '-C', tree, '.']);
    const tar = readFileSync(join(dir.path, 'tree.tar'));
    const path = await compressToFile(dir.path, 'tree.tar.gz', (t) => gzipSink(t, { chunkSize: CHUNK }), (s) => writePieces(s, tar, 100_000));
    const out = join(dir.path, 'out');
    mkdirSync(out);
    runOk('tar', ['-xzf', path, '-C', out]);
    runOk('diff', ['-r', tree, out]);
  } finally {
    dir.remove();
  }
});

test('200 MiB of mixed data round trip through gzip -dc', async () => {
  const dir = tempDir('gzip');
  try {
    let input = '';
    const path = await compressToFile(dir.path, 'big.gz', (t) => gzipSink(t), async (s) => {
      input = await feedMixed(s, 200 * MiB + 12345);
    });
    shell(`gzip -t ${path}`);
    assert.equal(sha256Of(`gzip -dc ${path}`), input);
  } finally {
    dir.remove();
  }
});

test('gzip output depends only on the bytes: not on write sizes or thread counts', async () => {
  const small = mixedBlock(3, 5 * CHUNK + 333);
  const digests = new Set<string>();
  for (const [piece, threads] of [[1, 1], [4 * KiB, 2], [3 * MiB, 3], [CHUNK, 1]] as const) {
    const target = new HashSink();
    const sink = gzipSink(target, { chunkSize: CHUNK, threads });
    await writePieces(sink, small, piece);
    await sink.close();
    assert.ok(target.closed, 'close() closes the target');
    digests.add(target.digest());
  }
  assert.equal(digests.size, 1, 'same bytes for 1-byte, 4 KiB, 3 MiB and chunk-sized writes');

  const large = new Set<string>();
  for (const [piece, threads] of [[4 * KiB, 1], [3 * MiB, 4], [7 * MiB + 1, 2]] as const) {
    const target = new HashSink();
    const sink = gzipSink(target, { threads });
    await feedMixed(sink, 24 * MiB + 5, piece);
    await sink.close();
    large.add(target.digest());
  }
  assert.equal(large.size, 1, 'same bytes for 24 MiB written in 4 KiB, 3 MiB and 7 MiB pieces');
});

test('gzip memory stays bounded while compressing 1 GiB', async (t) => {
  const target = new HashSink();
  const sink = gzipSink(target, { level: 1 });
  const before = process.memoryUsage().rss;
  let peak = before;
  const probe = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  try {
    await feedMixed(sink, 1 << 30, 4 * MiB);
    await sink.close();
  } finally {
    clearInterval(probe);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const growth = (peak - before) / MiB;
  t.diagnostic(`RSS growth ${growth.toFixed(1)} MiB`);
  assert.ok(growth < 160, `RSS grew by ${growth.toFixed(0)} MiB while compressing 1 GiB`);
  assert.equal(sink.position, 1 << 30);
  assert.equal(target.position, sink.compressedPosition);
});

test('gzip options are checked and a failed or aborted sink refuses writes', async () => {
  assert.throws(() => gzipSink(new HashSink(), { level: 10 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { level: 1.5 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { chunkSize: 1000 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { threads: 0 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { mtime: 5 } as never), UsageError);

  const aborted = gzipSink(new HashSink(), { chunkSize: CHUNK });
  await aborted.write(new Uint8Array(5 * CHUNK));
  await aborted.abort();
  await assert.rejects(aborted.write(new Uint8Array(1)), ImageError);

  const failing = { position: 0, write: async () => { throw new Error('disk full'); }, close: async () => undefined };
  const sink = gzipSink(failing, { chunkSize: CHUNK, threads: 1 });
  await assert.rejects(writePieces(sink, new Uint8Array(10 * CHUNK), CHUNK), /disk full/);
  await assert.rejects(sink.write(new Uint8Array(1)), /disk full/);
  await assert.rejects(sink.close(), /disk full/);
});

test('gzip -t rejects a corrupted member (negative control)', async () => {
  const dir = tempDir('gzip');
  try {
    const data = mixedBlock(9, 3 * CHUNK);
    const path = await compressToFile(dir.path, 'c.gz', (t) => gzipSink(t, { chunkSize: CHUNK }), (s) => s.write(data));
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    writeFileSync(path, bytes);
    assert.notEqual(run('gzip', ['-t', path]).status, 0);
  } finally {
    dir.remove();
  }
});
