import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bytesSegment, imageFromSegments, isAllZero, lazySegment, readAll, type BlockImage,
} from '../../src/core/block-image.js';
import { writeRaw, writeRawStream } from '../../src/container/raw.js';
import { gzipSink } from '../../src/compress/gzip.js';
import { zstdSink } from '../../src/compress/zstd.js';
import type { ByteSink } from '../../src/core/sink.js';
import type { UnitCache } from '../../src/core/unit-cache.js';
import { runOk, tempDir } from '../helpers/run.js';
import { assertWarmStreamReadsNoFile, randomImage, readAt, seededBytes, textBytes, writeTo } from './fixtures.js';

const MiB = 1 << 20;
const GiB = 1 << 30;

function rawFile(dir: string, name: string, image: BlockImage): Promise<string> {
  return writeTo(join(dir, name), (out) => writeRaw(image, out));
}

test('raw output is byte-identical to readAll for unaligned segments that cross windows', async () => {
  const dir = tempDir('raw');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(7, 3 * MiB));
    for (const seed of [1, 2, 3]) {
      const base = randomImage(seed, 9 * MiB + 333, 12, 2 * MiB);
      const image = imageFromSegments(base.size + 6 * MiB, [
        ...base.segments(),
        lazySegment(base.size + 17, MiB + 5, () => textBytes(MiB + 5)),
        { offset: base.size + 2 * MiB - 3, length: 3 * MiB, source: { kind: 'file', path: file, offset: 0 } },
      ]);
      const path = await rawFile(dir.path, `seed${seed}.raw`, image);
      assert.deepEqual(readFileSync(path), Buffer.from(readAll(image)), `seed ${seed}`);
    }
  } finally {
    dir.remove();
  }
});

test('raw output of a 20 GiB image with three data regions is sparse and holds the data', async () => {
  const dir = tempDir('raw');
  try {
    const size = 20 * GiB;
    const regions = [
      { offset: 0, bytes: seededBytes(1, 512 * 1024) },
      { offset: 7 * GiB + 12345, bytes: seededBytes(2, 3 * MiB) },
      { offset: size - 4096, bytes: seededBytes(3, 4096) },
    ];
    const image = imageFromSegments(size, [
      ...regions.map((r) => bytesSegment(r.offset, r.bytes)),
      bytesSegment(10 * GiB, new Uint8Array(8 * MiB)), // an explicit run of zeros stays a hole too
    ]);
    const path = await rawFile(dir.path, 'big.raw', image);
    const stat = statSync(path);
    assert.equal(stat.size, size);
    const allocated = stat.blocks * 512;
    assert.ok(allocated <= 16 * MiB, `expected a sparse file, ${allocated} bytes are allocated`);
    for (const r of regions) assert.deepEqual(readAt(path, r.offset, r.bytes.length), r.bytes);
    assert.ok(isAllZero(readAt(path, 10 * GiB, 8 * MiB)));
  } finally {
    dir.remove();
  }
});

test('raw output has the exact image size when it is not a multiple of the window', async () => {
  const dir = tempDir('raw');
  try {
    const dataAtEnd = imageFromSegments(3 * MiB + 7, [bytesSegment(3 * MiB, seededBytes(4, 7))]);
    const zerosAtEnd = imageFromSegments(5 * MiB + 1001, [bytesSegment(10, seededBytes(5, 100))]);
    for (const [name, image] of [['end.raw', dataAtEnd], ['zeros.raw', zerosAtEnd]] as const) {
      const path = await rawFile(dir.path, name, image);
      assert.equal(statSync(path).size, image.size, name);
      assert.deepEqual(readFileSync(path), Buffer.from(readAll(image)), name);
    }
  } finally {
    dir.remove();
  }
});

test('an empty image gives an empty raw file', async () => {
  const dir = tempDir('raw');
  try {
    const path = await rawFile(dir.path, 'empty.raw', imageFromSegments(0, []));
    assert.equal(statSync(path).size, 0);
  } finally {
    dir.remove();
  }
});

test('described spans: a store-like image as a raw stream through gzip and zstd with a warm cache is written without reading its files', async () => {
  const dir = tempDir('raw');
  try {
    const sinks = [
      ['img.gz', (target: ByteSink, cache: UnitCache | undefined) => gzipSink(target, { boundaries: 'content', cache }), 'gzip -dc'],
      ['img.zst', (target: ByteSink, cache: UnitCache | undefined) => zstdSink(target, { boundaries: 'content', cache }), 'zstd -q -dc'],
    ] as const;
    for (const [extension, makeSink, decompress] of sinks) {
      const sub = join(dir.path, extension);
      mkdirSync(sub);
      await assertWarmStreamReadsNoFile(sub, extension, makeSink, (image, sink, identify) => writeRawStream(image, sink, {}, identify), (output, _image, raw) => {
        runOk('bash', ['-c', `${decompress} '${output}' > '${output}.raw'`]);
        assert.ok(readFileSync(`${output}.raw`).equals(readFileSync(raw)), `${extension}: the stream decompresses to the raw image`);
      });
    }
  } finally {
    dir.remove();
  }
});
