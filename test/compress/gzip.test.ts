import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants as zlibConstants, crc32, deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { gzipSink } from '../../src/compress/gzip.js';
import { UsageError } from '../../src/core/errors.js';
import { UnitCache } from '../../src/core/unit-cache.js';
import { seededBytes, textBytes } from '../container/fixtures.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import {
  assertAbortAndTargetFailure, assertCachedContentUnits, assertDependsOnlyOnBytes, compressMixedToFile, compressToFile, HashSink, KiB, MiB, mixedBlock, rssGrowthCompressing1GiB,
  sha256, sha256Of, shell, writePieces, writeRandomPieces,
} from './fixtures.js';

const CHUNK = 64 * KiB;

/**
 * Parses `file` as exactly one gzip member: header (deflate, no flags, mtime 0, the XFL
 * zlib writes for `level`, OS 3), one DEFLATE stream ending in a final block, and a trailer
 * with the CRC-32 and size of the content; then asserts that the file ends right there, so
 * it is one member and not several concatenated. Returns the content.
 */
function singleMember(file: Uint8Array, level = 6): Buffer {
  assert.ok(file.length >= 20, `a gzip member is at least 20 bytes, got ${file.length}`);
  assert.deepEqual([file[0], file[1], file[2]], [0x1f, 0x8b, 8], 'magic and method');
  assert.equal(file[3], 0, 'no FTEXT, FHCRC, FEXTRA, FNAME or FCOMMENT');
  assert.deepEqual(Array.from(file.subarray(4, 8)), [0, 0, 0, 0], 'mtime 0');
  assert.equal(file[8], level === 9 ? 2 : level < 2 ? 4 : 0, `XFL for level ${level}`);
  assert.equal(file[9], 3, 'OS 3 (Unix)');
  const { buffer, engine } = inflateRawSync(file.subarray(10), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  const end = 10 + engine.bytesWritten;
  const trailer = new DataView(file.buffer, file.byteOffset + end, 8);
  assert.equal(trailer.getUint32(0, true), crc32(buffer) >>> 0, 'CRC-32');
  assert.equal(trailer.getUint32(4, true), buffer.length % 2 ** 32, 'ISIZE');
  assert.equal(file.length, end + 8, 'the file ends after the first member\'s trailer: one single member');
  return buffer;
}

/**
 * Decodes the file as ONE gzip member with Python's zlib (wbits 31: gzip framing, a single
 * member, as strict readers do), streaming, and fails if any byte follows that member.
 * Returns the sha256 of the content.
 */
function pythonSingleMember(path: string): string {
  return runOk('python3', ['-c', [
    'import hashlib, sys, zlib',
    'd = zlib.decompressobj(31); h = hashlib.sha256()',
    'with open(sys.argv[1], "rb") as f:',
    '    while not d.eof and (block := f.read(1 << 20)):',
    '        h.update(d.decompress(block))',
    '    rest = d.unused_data + f.read()',
    'assert d.eof, "the member does not end"',
    'assert rest == b"", f"{len(rest)} bytes follow the first member"',
    'print(h.hexdigest())',
  ].join('\n'), path]).stdout.trim();
}

test('gzip is one member that gzip, zcat, Python, tar and zlib read back at empty, tiny and chunk-boundary sizes', async () => {
  const dir = tempDir('gzip');
  try {
    const source = mixedBlock(7, 3 * CHUNK + 100);
    const mixed = new Uint8Array(1_000_003);
    mixed.set(textBytes(400_000, 'compressible text '), 0);
    mixed.set(seededBytes(5, 300_000), 450_000);
    const cases: [string, Uint8Array][] = [
      ...[0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17].map((size): [string, Uint8Array] => [`mixed ${size}`, source.subarray(0, size)]),
      ['text chunk-1', textBytes(CHUNK - 1)],
      ['random chunk', seededBytes(6, CHUNK)],
      ['text chunk+1', textBytes(CHUNK + 1)],
      ['text, random, zeros', mixed],
    ];
    for (const [index, [name, data]] of cases.entries()) {
      const path = await compressToFile(dir.path, `${index}.gz`, (t) => gzipSink(t, { chunkSize: CHUNK, threads: 3 }),
        (s) => (index % 2 === 0 ? writePieces(s, data, 10_000) : writeRandomPieces(s, data, index)));
      const expected = sha256(data);
      const bytes = readFileSync(path);
      assert.ok(singleMember(bytes).equals(data), `${name}: one member whose DEFLATE stream is the whole content`);
      assert.ok(gunzipSync(bytes).equals(data), `${name}: zlib gunzip`);
      runOk('gzip', ['-t', path]);
      assert.equal(sha256Of(`gzip -dc ${path}`), expected, `gzip -dc, ${name}`);
      assert.equal(sha256Of(`zcat ${path}`), expected, `zcat, ${name}`);
      assert.equal(sha256Of(`python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())' ${path}`), expected, `python3 gzip, ${name}`);
      assert.equal(pythonSingleMember(path), expected, `python3 zlib, one member only, ${name}`);
    }
  } finally {
    dir.remove();
  }
});

test('empty and one-byte inputs are byte for byte what gzip -n writes, at levels 1, 6 and 9', async () => {
  for (const level of [1, 6, 9]) {
    for (const data of [new Uint8Array(0), Uint8Array.of(42)]) {
      const target = new BytesSink();
      const sink = gzipSink(target, { level });
      await sink.write(data);
      await sink.close();
      const reference = runOk('gzip', ['-n', `-${level}`, '-c'], { input: data }).stdout;
      assert.deepEqual(Array.from(target.bytes()), Array.from(Buffer.from(reference, 'latin1')), `level ${level}, ${data.length} bytes`);
      assert.ok(singleMember(target.bytes(), level).equals(data));
      assert.equal(sink.compressedPosition, target.bytes().length);
    }
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

test('200 MiB of mixed data round trip through gzip -dc as one member', async () => {
  const dir = tempDir('gzip');
  try {
    const { path, input } = await compressMixedToFile(dir.path, 'big.gz', (t) => gzipSink(t), 200 * MiB + 12345);
    shell(`gzip -t ${path}`);
    assert.equal(sha256Of(`gzip -dc ${path}`), input);
    assert.equal(pythonSingleMember(path), input, 'one member, read by a single-member reader');
  } finally {
    dir.remove();
  }
});

test('gzip output depends only on the bytes: not on write sizes or thread counts', () =>
  assertDependsOnlyOnBytes((target, options) => gzipSink(target, options), CHUNK));

test('levels 0, 1, 6 and 9 give one valid member; each chunk is primed with the previous 32 KiB', async (t) => {
  // Random bytes that repeat every 20 KiB: a chunk compressed without the previous 32 KiB
  // would store its first 20 KiB literally, about 20 KiB for each of the 16 chunk starts.
  const period = seededBytes(21, 20 * KiB);
  const data = new Uint8Array(16 * CHUNK + 5);
  for (let at = 0; at < data.length; at += period.length) data.set(period.subarray(0, Math.min(period.length, data.length - at)), at);
  data.set(mixedBlock(4, 3 * CHUNK), 5 * CHUNK);
  const sizes = new Map<number, number>();
  for (const level of [0, 1, 6, 9]) {
    const target = new BytesSink();
    const sink = gzipSink(target, { level, chunkSize: CHUNK });
    await writeRandomPieces(sink, data, level + 1);
    await sink.close();
    assert.ok(singleMember(target.bytes(), level).equals(data), `level ${level}: one member`);
    assert.ok(Buffer.from(runOk('gzip', ['-dc'], { input: target.bytes() }).stdout, 'latin1').equals(data), `level ${level}: gzip -dc`);
    sizes.set(level, target.bytes().length);
  }
  assert.ok(sizes.get(0)! > data.length, 'level 0 stores');
  // Level 9 is not always smaller than 6 (here it was 1 byte larger), but never by much.
  assert.ok(sizes.get(9)! <= sizes.get(6)! * 1.001 && sizes.get(6)! < sizes.get(1)! && sizes.get(1)! < sizes.get(0)!, `sizes by level: ${JSON.stringify([...sizes])}`);
  // With the dictionary, cutting the stream into 17 chunks costs next to nothing against one zlib stream.
  const whole = gzipSync(data, { level: 6 }).length;
  t.diagnostic(`sizes by level ${JSON.stringify([...sizes])}; one zlib stream at level 6: ${whole}`);
  assert.ok(sizes.get(6)! < whole * 1.01 + 17 * 16, `level 6: ${sizes.get(6)} bytes against ${whole} for one zlib stream`);
});

test('gzip memory stays bounded while compressing 1 GiB', async (t) => {
  const growth = await rssGrowthCompressing1GiB(t, (target) => gzipSink(target, { level: 1 }), false);
  assert.ok(growth < 160, `RSS grew by ${growth.toFixed(0)} MiB while compressing 1 GiB`);
});

test('gzip options are checked; an aborted or failed sink refuses writes', async () => {
  assert.throws(() => gzipSink(new HashSink(), { level: 10 }), /gzip level 10/);
  assert.throws(() => gzipSink(new HashSink(), { level: 10 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { level: -1 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { level: 1.5 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { chunkSize: 1000 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { threads: 0 }), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { mtime: 5 } as never), UsageError);
  assert.throws(() => gzipSink(new HashSink(), { depth: 3 } as never), UsageError);

  await assertAbortAndTargetFailure((target, options) => gzipSink(target, options), CHUNK);
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

test('the single-member check catches two concatenated members (negative control)', () => {
  const two = Buffer.concat([gzipSync(Uint8Array.of(1)), gzipSync(Uint8Array.of(2))]);
  assert.throws(() => singleMember(two), /one single member/);
});

/** Keeps everything written, for small outputs. */
class BytesSink {
  private readonly parts: Uint8Array[] = [];
  position = 0;
  async write(data: Uint8Array): Promise<void> {
    this.parts.push(data.slice());
    this.position += data.length;
  }
  async close(): Promise<void> {}
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

test('content boundaries: one member still; the cache, keyed by each piece and its dictionary, gives the same bytes and after a change finds the pieces after it', async () => {
  const dir = tempDir('gzip');
  try {
    const { path } = await assertCachedContentUnits(dir.path, 'gz', (t, cache) => gzipSink(t, { chunkSize: CHUNK, level: 1, boundaries: 'content', cache }), (p) => `gzip -dc ${p}`);
    runOk('gzip', ['-t', path]);
    singleMember(readFileSync(path), 1);
  } finally {
    dir.remove();
  }
});

test('described spans: each is a piece of its own, kept with its CRC-32; a warm cache places them all and the bytes stay the same', async () => {
  const dir = tempDir('gzip');
  try {
    const spanRule = gzipSink({ position: 0, write: async () => undefined, close: async () => undefined }, { chunkSize: CHUNK, boundaries: 'content' }).spanRule!;
    // Plain stretches and described spans, in turn; the first and the last are spans.
    const parts = [0, 1, 2, 3, 4, 5, 6].map((i) => ({
      bytes: i % 2 === 0 ? mixedBlock(20 + i, Math.min(spanRule.maximum, 40 * KiB + i * 7_000)) : mixedBlock(30 + i, 150 * KiB + i),
      description: i % 2 === 0 ? new TextEncoder().encode(`span ${i}`) : undefined,
    }));
    const input = Buffer.concat(parts.map((p) => p.bytes));
    const cacheAt = join(dir.path, 'cache');
    const build = async (name: string, withCache: boolean): Promise<{ path: string; placed: boolean[]; cache: UnitCache | undefined }> => {
      const cache = withCache ? new UnitCache({ directory: cacheAt, maxBytes: 1 << 30, warn: (line) => assert.fail(line) }) : undefined;
      const placed: boolean[] = [];
      const path = await compressToFile(dir.path, `${name}.gz`, (t) => gzipSink(t, { chunkSize: CHUNK, level: 6, boundaries: 'content', cache }), async (sink) => {
        for (const part of parts) {
          if (part.description !== undefined) {
            const had = await sink.describe!(part.bytes.length, part.description);
            placed.push(had);
            if (had) continue;
          }
          await writeRandomPieces(sink, part.bytes, 5);
        }
      });
      return { path, placed, cache };
    };
    const plain = await build('plain', false);
    const cold = await build('cold', true);
    const warm = await build('warm', true);
    assert.deepEqual(plain.placed, [false, false, false, false]);
    assert.deepEqual(cold.placed, [false, false, false, false]);
    assert.deepEqual(warm.placed, [true, true, true, true]);
    const sums = [plain, cold, warm].map((b) => sha256(readFileSync(b.path)));
    assert.deepEqual(sums, [sums[0], sums[0], sums[0]]);
    assert.equal(sha256Of(`gzip -dc ${warm.path}`), sha256(input));
    singleMember(readFileSync(warm.path), 6);
    // A span is compressed alone: its piece is what deflating it without a dictionary gives.
    const file = readFileSync(plain.path);
    const alone = deflateRawSync(parts[2]!.bytes, { level: 6, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    assert.ok(file.includes(alone), 'the span\'s piece is in the file as deflated alone');
  } finally {
    dir.remove();
  }
});

test('described spans: longer than the rule or left unfinished, the sink refuses; fixed boundaries take none', async () => {
  const sink = gzipSink(new HashSink(), { chunkSize: CHUNK, boundaries: 'content' });
  await assert.rejects(sink.describe!(sink.spanRule!.maximum + 1, new Uint8Array(1)), /described span/);
  const again = gzipSink(new HashSink(), { chunkSize: CHUNK, boundaries: 'content' });
  assert.equal(await again.describe!(100, new Uint8Array(1)), false);
  await again.write(new Uint8Array(99));
  await assert.rejects(again.close(), /before the end of a described span/);
  await again.abort();
  assert.equal(gzipSink(new HashSink(), { chunkSize: CHUNK }).describe, undefined);
});
