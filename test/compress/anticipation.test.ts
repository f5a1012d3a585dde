/**
 * Compressing ahead (compress/anticipation.ts, chunked-sink anticipate): the lone parts of
 * large files, made on another thread before the stream reaches them, are found by the
 * stream in the cache, and the output is byte for byte what a build without the cache
 * writes, for gzip and zstd; a part that cannot be read is only dropped, and one the
 * thread has not started can be taken back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { AnticipationThread, anticipateLoneParts } from '../../src/compress/anticipation.js';
import { deflatePieceSync, DESCRIBED_ENTRY_HEADER, describedEntryHeader } from '../../src/compress/deflate-piece.js';
import type { CompressingSink } from '../../src/compress/chunked-sink.js';
import { gzipSink } from '../../src/compress/gzip.js';
import { zstdSink } from '../../src/compress/zstd.js';
import { imageFromSegments, type Segment } from '../../src/core/block-image.js';
import { loneParts, type FileIdentity } from '../../src/core/described-spans.js';
import type { ByteSink } from '../../src/core/sink.js';
import { UnitCache } from '../../src/core/unit-cache.js';
import { writeRawStream } from '../../src/container/raw.js';
import { tempDir } from '../helpers/run.js';
import { cacheEntries, untilCached } from '../helpers/cache-entries.js';
import { compressToFile, KiB, mixedBlock, MiB, sha256, sha256Of } from './fixtures.js';

interface Fixture {
  readonly files: { readonly path: string; readonly size: number }[];
  readonly segments: Segment[];
  readonly identify: FileIdentity;
  readonly size: number;
}

/** Files of 6.7, 3 and 0.2 MiB laid out one after another in 4 KiB blocks, as ext4 does. */
function fixture(dir: string): Fixture {
  const files = [6.7 * MiB, 3 * MiB, 200 * KiB].map((size, i) => {
    const path = join(dir, `file-${i}`);
    writeFileSync(path, mixedBlock(40 + i, Math.floor(size)));
    return { path, size: Math.floor(size) };
  });
  const segments: Segment[] = [];
  let at = 64 * KiB;
  for (const { path, size } of files) {
    segments.push({ offset: at, length: size, source: { kind: 'file', path, offset: 0, size } });
    at += Math.ceil(size / (4 * KiB)) * 4 * KiB;
  }
  const identify: FileIdentity = (path) => (path.startsWith(dir) ? `test-identity ${path}` : undefined);
  return { files, segments, identify, size: at + 64 * KiB };
}

async function build(dir: string, name: string, fx: Fixture, make: (target: ByteSink) => CompressingSink,
  ahead: (sink: CompressingSink) => void | Promise<void>): Promise<string> {
  return compressToFile(dir, name, make, async (sink) => {
    await ahead(sink);
    await writeRawStream(imageFromSegments(fx.size, fx.segments), sink, {}, fx.identify);
  });
}


for (const [name, make, decompress, kind] of [
  ['gzip', (t: ByteSink, cache?: UnitCache) => gzipSink(t, { level: 6, boundaries: 'content', cache }), 'gzip -dc', 'gzip described span'],
  ['zstd', (t: ByteSink, cache?: UnitCache) => zstdSink(t, { level: 3, boundaries: 'content', cache }), 'zstd -dc', 'zstd described span'],
] as const) {
  test(`${name}: lone parts made ahead are found by the stream, and the bytes are those of a build without the cache`, async () => {
    const dir = tempDir(`anticipation-${name}`);
    try {
      const fx = fixture(dir.path);
      const cache = new UnitCache({ directory: join(dir.path, 'cache'), maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
      const plain = await build(dir.path, 'plain', fx, (t) => make(t), () => undefined);
      let asked = 0;
      const ahead = await build(dir.path, 'ahead', fx, (t) => make(t, cache), async (sink) => {
        assert.ok(sink.anticipate !== undefined);
        const observe = anticipateLoneParts(sink, fx.identify);
        for (const file of fx.files) {
          observe(file.path, file.size);
          observe(file.path, file.size); // a second listing of the same file asks for nothing more
          asked += loneParts(fx.identify(file.path)!, file.size, sink.spanRule!).length;
        }
        // As a layout's walk gives them time: the stream starts once they are made.
        await untilCached(join(dir.path, 'cache'), asked, 'parts');
        assert.equal(cacheEntries(join(dir.path, 'cache')), asked, 'nothing more is made ahead');
      });
      assert.equal(asked, 5 + 1, 'parts 1 to 5 of the 6.7 MiB file (its tail is too long to join part 5) and part 1 of the 3 MiB one');
      assert.equal(cache.byKind.get(kind)?.hits, asked, 'every part made ahead was found');
      assert.equal(sha256(readFileSync(ahead)), sha256(readFileSync(plain)));
      const input = Buffer.alloc(fx.size);
      for (const s of fx.segments) input.set(readFileSync((s.source as { path: string }).path), s.offset);
      assert.equal(sha256Of(`${decompress} ${ahead}`), sha256(input));
    } finally {
      dir.remove();
    }
  });
}

test('a part that cannot be read is dropped: the stream compresses it itself and the bytes are the same; without a cache nothing is made ahead', async () => {
  const dir = tempDir('anticipation-unreadable');
  try {
    const fx = fixture(dir.path);
    const cache = new UnitCache({ directory: join(dir.path, 'cache'), maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    const make = (t: ByteSink, withCache: boolean): CompressingSink => gzipSink(t, { level: 6, boundaries: 'content', cache: withCache ? cache : undefined });
    const plain = await build(dir.path, 'plain', fx, (t) => make(t, false), (sink) => assert.equal(sink.anticipate, undefined));
    const ahead = await build(dir.path, 'ahead', fx, (t) => make(t, true), async (sink) => {
      const observe = anticipateLoneParts(sink, fx.identify);
      // Listed with the wrong size: reading it ahead fails the listed-size check.
      observe(fx.files[0]!.path, fx.files[0]!.size + 1);
      const [first] = loneParts(fx.identify(fx.files[0]!.path)!, fx.files[0]!.size, sink.spanRule!);
      sink.anticipate!(first!.description, { path: join(dir.path, 'missing'), size: MiB, offset: MiB, length: MiB });
      // Made in order: once this one is stored, the thread has tried the others.
      observe(fx.files[1]!.path, fx.files[1]!.size);
      await untilCached(join(dir.path, 'cache'), 1, 'parts');
    });
    assert.equal(cache.byKind.get('gzip described span')?.hits, 1, 'only the part that could be read was made ahead');
    assert.equal(sha256(readFileSync(ahead)), sha256(readFileSync(plain)));
  } finally {
    dir.remove();
  }
});

test('a part the thread has not started is taken back and never made; the others are kept in the cache as the stream would make them; a late call never touches a later part', async () => {
  const dir = tempDir('anticipation-take-back');
  const thread = new AnticipationThread();
  const cache = new UnitCache({ directory: join(dir.path, 'cache'), maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
  try {
    const path = join(dir.path, 'file');
    const data = mixedBlock(50, 4 * MiB);
    writeFileSync(path, data);
    const keyOf = (round: number, i: number): Buffer => UnitCache.key('anticipation test', Buffer.from(`${round} ${i}`));
    const jobs = [0, 1, 2, 3].map((i) => thread.makeEntry({ path, size: data.length, offset: i * MiB, length: MiB }, { kind: 'deflate', level: 6 }, cache, keyOf(1, i)));
    // Handed over just now: the thread has not started even the first (it is still starting up).
    assert.equal(jobs[1]!.takeBack(), true);
    assert.equal(jobs[3]!.takeBack(), true);
    assert.equal(jobs[3]!.takeBack(), false, 'only once');
    await Promise.all(jobs.map((job) => job.done));
    for (const i of [1, 3]) assert.equal(cache.has(keyOf(1, i)), false, `part ${i} was taken back`);
    for (const i of [0, 2]) {
      const part = data.subarray(i * MiB, (i + 1) * MiB);
      const entry = cache.get(keyOf(1, i));
      assert.equal(entry?.kind, 'compressed');
      const bytes = Buffer.from((entry as { bytes: Uint8Array }).bytes);
      assert.deepEqual(bytes.subarray(DESCRIBED_ENTRY_HEADER), Buffer.from(deflatePieceSync(part, 6, false, undefined)));
      assert.deepEqual(bytes.subarray(0, DESCRIBED_ENTRY_HEADER), Buffer.from(describedEntryHeader(crc32(part), MiB)));
    }
    assert.equal(jobs[0]!.takeBack(), false, 'a part made is not taken back');
    // The next parts reuse the finished ones' shared words: a late call on an old part leaves them alone.
    const next = [0, 1, 2, 3].map((i) => thread.makeEntry({ path, size: data.length, offset: i * MiB, length: MiB }, { kind: 'deflate', level: 6 }, cache, keyOf(2, i)));
    for (const old of jobs) assert.equal(old.takeBack(), false);
    await Promise.all(next.map((job) => job.done));
    for (const i of [0, 1, 2, 3]) assert.ok(cache.has(keyOf(2, i)), `part ${i} made`);
    const files = readdirSync(join(dir.path, 'cache'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    assert.deepEqual(files.filter((entry) => entry.name.startsWith('.tmp-')), [], 'no temporary file left');
    assert.equal(files.length, 6);
  } finally {
    cache.close();
    await thread.close();
    dir.remove();
  }
});
