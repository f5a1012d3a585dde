import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSink } from '../../src/compress/gzip.js';
import { zstdSink } from '../../src/compress/zstd.js';
import { bytesSegment, imageFromSegments, lazySegment, type BlockImage } from '../../src/core/block-image.js';
import { UsageError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../../src/core/sink.js';
import { writeQcow2Stream, type Qcow2StreamOptions } from '../../src/container/qcow2-stream.js';
import { qcow2Header } from '../../src/container/qcow2-format.js';
import { HashSink } from '../compress/fixtures.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import {
  assertCleanQcow2, assertSameContent, assertWarmStreamReadsNoFile, fourRegionImage, oddSizeImages, randomImage, rssGrowthWhileWriting, seededBytes, sha256File, withLazyAndFile, writeQcow2AndRaw, type Qcow2Written,
} from './fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;

type Wrap = 'plain' | 'gzip' | 'zstd';

/** Writes `image` as a qcow2 stream into `path` (plain, or compressed and then decompressed by the tool). */
async function streamTo(path: string, image: BlockImage, options: Qcow2StreamOptions = {}, wrap: Wrap = 'plain'): Promise<string> {
  const out = OutputFile.create(wrap === 'plain' ? path : `${path}.${wrap === 'gzip' ? 'gz' : 'zst'}`);
  const file = outputFileSink(out);
  const compressor = wrap === 'gzip' ? gzipSink(file) : wrap === 'zstd' ? zstdSink(file) : undefined;
  const sink: ByteSink = compressor ?? file;
  try {
    await writeQcow2Stream(image, sink, options);
    await sink.close();
    out.commit();
  } catch (error) {
    await compressor?.abort();
    out.abort();
    throw error;
  }
  if (wrap === 'gzip') runOk('bash', ['-c', `gzip -dc '${path}.gz' > '${path}'`]);
  if (wrap === 'zstd') runOk('bash', ['-c', `zstd -q -dc '${path}.zst' > '${path}'`]);
  return path;
}

function writeBoth(dir: string, name: string, image: BlockImage, options: Qcow2StreamOptions = {}, wrap: Wrap = 'plain'): Promise<Qcow2Written> {
  return writeQcow2AndRaw(dir, name, image, (path) => streamTo(path, image, options, wrap));
}

function header(path: string): ReturnType<typeof qcow2Header.decode> {
  return qcow2Header.decode(readFileSync(path).subarray(0, qcow2Header.size));
}

/** Guest clusters touched by the image's segments. */
function touchedClusters(image: BlockImage, clusterSize: number): number {
  const touched = new Set<number>();
  for (const s of image.segments()) {
    if (s.length === 0) continue;
    for (let c = Math.floor(s.offset / clusterSize); c <= Math.floor((s.offset + s.length - 1) / clusterSize); c++) touched.add(c);
  }
  return touched.size;
}

test('streamed qcow2 of random unaligned segments passes qemu-img check and compare', async () => {
  const dir = tempDir('qcow2s');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(14, 2 * MiB));
    for (const seed of [11, 12, 13]) {
      const base = randomImage(seed, 13 * MiB + 4321, 20, 700 * KiB);
      const image = withLazyAndFile(base, seed, file, 2 * MiB, base.size + 4 * MiB);
      const result = await writeBoth(dir.path, `seed${seed}`, image);
      assert.equal(result.check['allocated-clusters'], touchedClusters(image, 64 * KiB), 'every touched cluster is allocated');
    }
  } finally {
    dir.remove();
  }
});

test('streamed qcow2 through gzipSink and zstdSink decompresses to a clean, identical image', async () => {
  const dir = tempDir('qcow2s');
  try {
    const image = randomImage(15, 40 * MiB + 512, 30, 2 * MiB);
    const plain = await writeBoth(dir.path, 'plain', image);
    const gz = await writeBoth(dir.path, 'gz', image, {}, 'gzip');
    const zst = await writeBoth(dir.path, 'zst', image, {}, 'zstd');
    assert.equal(sha256File(gz.qcow2), sha256File(plain.qcow2), 'the same qcow2 bytes whatever the sink');
    assert.equal(sha256File(zst.qcow2), sha256File(plain.qcow2));
    runOk('gzip', ['-t', `${gz.qcow2}.gz`]);
    assert.ok(statSync(`${gz.qcow2}.gz`).size < statSync(plain.qcow2).size);
  } finally {
    dir.remove();
  }
});

test('the stream is laid out as qemu-img convert does: header, refcounts, L1, L2, data', async () => {
  const dir = tempDir('qcow2s');
  try {
    // An all-zero segment still allocates its clusters (the layout comes before the data).
    const image = imageFromSegments(8 * MiB, [
      bytesSegment(100, seededBytes(21, 3000)),
      bytesSegment(2 * MiB, new Uint8Array(128 * KiB)),
      bytesSegment(7 * MiB + 5, seededBytes(22, 70 * KiB)),
    ]);
    const result = await writeBoth(dir.path, 'layout', image);
    const h = header(result.qcow2);
    const cs = 64 * KiB;
    assert.equal(h.version, 3);
    assert.equal(h.headerLength, 112);
    assert.equal(h.refcountOrder, 4);
    assert.equal(h.refcountTableOffset, cs, 'refcount table in cluster 1');
    assert.equal(h.refcountTableClusters, 1);
    const file = readFileSync(result.qcow2);
    const view = new DataView(file.buffer, file.byteOffset);
    assert.equal(Number(view.getBigUint64(cs, false)), 2 * cs, 'refcount block in cluster 2');
    assert.equal(h.l1TableOffset, 3 * cs, 'L1 in cluster 3');
    assert.equal(h.l1Size, 1);
    const l1 = view.getBigUint64(3 * cs, false);
    assert.equal(l1, (1n << 63n) | BigInt(4 * cs), 'L2 in cluster 4, COPIED');
    const mapped: number[] = [];
    for (let i = 0; i < 128; i++) {
      const entry = view.getBigUint64(4 * cs + i * 8, false);
      if (entry !== 0n) mapped.push(i, Number(entry & ((1n << 62n) - 1n)) / cs);
    }
    // guest clusters 0, 32, 33, 112, 113 at host clusters 5..9, in guest order
    assert.deepEqual(mapped, [0, 5, 32, 6, 33, 7, 112, 8, 113, 9]);
    assert.equal(file.length, 10 * cs);
    assert.equal(result.check['allocated-clusters'], 5);
    assert.deepEqual(Array.from({ length: 12 }, (_, c) => view.getUint16(2 * cs + 2 * c, false)), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  } finally {
    dir.remove();
  }
});

test('a 20 GiB sparse streamed qcow2 holds a few data regions in a small file', async () => {
  const dir = tempDir('qcow2s');
  try {
    const size = 20 * GiB;
    const image = fourRegionImage(size, 31);
    const result = await writeBoth(dir.path, 'big', image, {}, 'gzip');
    const h = header(result.qcow2);
    assert.equal(h.size, size);
    assert.equal(h.l1Size, 40);
    assert.equal(result.check['allocated-clusters'], 16 + 33 + 2 + 1);
    // L2 tables for L1 entries 0, 10, 23 and 24 (the boundary crossing) and 39.
    assert.equal(statSync(result.qcow2).size, (3 + 1 + 5 + 52) * 64 * KiB, 'header, refcounts, L1, five L2 tables, 52 data clusters');
  } finally {
    dir.remove();
  }
});

test('odd, tiny and empty images, and cluster sizes from 512 bytes to 2 MiB', async () => {
  const dir = tempDir('qcow2s');
  try {
    for (const [name, image] of [...oddSizeImages(41), ['no-data', imageFromSegments(5 * MiB, [])] as const]) {
      const result = await writeBoth(dir.path, name, image);
      assert.equal(header(result.qcow2).size, Math.ceil(image.size / 512) * 512, name);
    }
    const empty = await writeBoth(dir.path, 'empty', imageFromSegments(0, []));
    assert.equal(header(empty.qcow2).l1Size, 0);
    assert.equal(header(empty.qcow2).l1TableOffset, 0);
    assert.equal(statSync(empty.qcow2).size, 3 * 64 * KiB);

    const image = randomImage(51, 6 * MiB + 512, 10, 600 * KiB);
    for (const clusterBits of [9, 12, 16, 21]) {
      const result = await writeBoth(dir.path, `c${clusterBits}`, image, { clusterBits });
      assert.equal(result.info['cluster-size'], 2 ** clusterBits);
    }
    // 512-byte clusters over 64 MiB: a 16 KiB L1 (32 clusters) and a two-cluster refcount table.
    const wide = imageFromSegments(64 * MiB, [bytesSegment(0, seededBytes(52, 9 * MiB)), bytesSegment(64 * MiB - 512, seededBytes(54, 512))]);
    const result = await writeBoth(dir.path, 'small-clusters', wide, { clusterBits: 9 });
    assert.equal(header(result.qcow2).l1Size, 2048);
    assert.equal(header(result.qcow2).refcountTableClusters, 2);
  } finally {
    dir.remove();
  }
});

test('stream options: compressed clusters are refused, other options checked', async () => {
  const image = imageFromSegments(MiB, []);
  await assert.rejects(writeQcow2Stream(image, new HashSink(), { compress: true } as never), (e: unknown) => e instanceof UsageError && e.code === 'qcow2.stream-compress');
  await assert.rejects(writeQcow2Stream(image, new HashSink(), { clusterBits: 8 }), UsageError);
  await assert.rejects(writeQcow2Stream(image, new HashSink(), { level: 1 } as never), UsageError);
});

test('streamed qcow2 memory does not grow with 1 GiB of image data', async (t) => {
  const segments = Array.from({ length: 1024 }, (_, i) => lazySegment(i * MiB, MiB, () => seededBytes(i + 1, MiB)));
  const image = imageFromSegments(GiB + 5 * MiB, segments);
  const growth = await rssGrowthWhileWriting((sink) => writeQcow2Stream(image, sink));
  t.diagnostic(`RSS growth ${growth.toFixed(1)} MiB`);
  assert.ok(growth < 100, `RSS grew by ${growth.toFixed(0)} MiB`);
});

test('qemu-img compare catches a flipped data byte in a streamed qcow2 (negative control)', async () => {
  const dir = tempDir('qcow2s');
  try {
    const image = imageFromSegments(4 * MiB, [bytesSegment(MiB, seededBytes(71, MiB))]);
    const { raw, qcow2 } = await writeBoth(dir.path, 'neg', image);
    const fd = openSync(qcow2, 'r+');
    const at = statSync(qcow2).size - 100;
    const byte = new Uint8Array(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);
    const result = run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, qcow2]);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /Content mismatch at offset/);
  } finally {
    dir.remove();
  }
});

test('described spans: a store-like image through gzip with a warm cache is written without reading its files, and decompresses to the same image', async () => {
  const dir = tempDir('qcow2s');
  try {
    await assertWarmStreamReadsNoFile(dir.path, 'qcow2.gz',
      (target, cache) => gzipSink(target, { boundaries: 'content', cache }),
      (image, sink, identify) => writeQcow2Stream(image, sink, { identify }),
      (compressed, image, raw) => {
        runOk('bash', ['-c', `gzip -dc '${compressed}' > '${compressed}.qcow2'`]);
        assertCleanQcow2(`${compressed}.qcow2`, image.size);
        assertSameContent(raw, `${compressed}.qcow2`);
      });
  } finally {
    dir.remove();
  }
});
