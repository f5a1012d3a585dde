import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { bytesSegment, imageFromSegments, lazySegment, readAll, type BlockImage } from '../../src/core/block-image.js';
import { OutputFile } from '../../src/core/output-file.js';
import { writeQcow2, type Qcow2Options } from '../../src/container/qcow2.js';
import { qcow2Header } from '../../src/container/qcow2-format.js';
import { run, tempDir } from '../helpers/run.js';
import {
  assertCleanQcow2, assertUsageErrors, fourRegionImage, oddSizeImages, randomImage, seededBytes, textBytes, withLazyAndFile, writeQcow2AndRaw, writeTo, type Qcow2Written,
} from './fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;

/** Writes `image` as raw and as qcow2 and checks the qcow2 with qemu-img against the raw. */
function writeBoth(dir: string, name: string, image: BlockImage, options: Qcow2Options = {}): Promise<Qcow2Written> {
  return writeQcow2AndRaw(dir, name, image, (path) => writeTo(path, (out) => writeQcow2(image, out, options)));
}

/** Reads a big-endian u64 L2/L1 entry table from our own output. */
function readEntries(path: string, offset: number, count: number): bigint[] {
  const fd = openSync(path, 'r');
  try {
    const buffer = new Uint8Array(count * 8);
    readSync(fd, buffer, 0, buffer.length, offset);
    const view = new DataView(buffer.buffer);
    return Array.from({ length: count }, (_, i) => view.getBigUint64(i * 8, false));
  } finally {
    closeSync(fd);
  }
}

function header(path: string): ReturnType<typeof qcow2Header.decode> {
  return qcow2Header.decode(readFileSync(path).subarray(0, qcow2Header.size));
}

test('qcow2 of random unaligned segments crossing clusters passes qemu-img check and compare', async () => {
  const dir = tempDir('qcow2');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(14, 2 * MiB));
    for (const seed of [11, 12, 13]) {
      const base = randomImage(seed, 13 * MiB + 4321, 20, 700 * KiB);
      const image = withLazyAndFile(base, seed, file, 2 * MiB, base.size + 4 * MiB);
      const result = await writeBoth(dir.path, `seed${seed}`, image);
      assert.equal(result.check['compressed-clusters'] ?? 0, 0);
    }
  } finally {
    dir.remove();
  }
});

test('qcow2 header is version 3 with a 112-byte header, 16-bit refcounts and a terminated extension list', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = randomImage(21, 3 * MiB, 4, 200 * KiB);
    const { qcow2 } = await writeBoth(dir.path, 'h', image);
    const h = header(qcow2);
    assert.equal(h.magic, 0x514649fb);
    assert.equal(h.version, 3);
    assert.equal(h.headerLength, 112);
    assert.equal(h.compressionType, 0);
    assert.equal(h.refcountOrder, 4);
    assert.equal(h.clusterBits, 16);
    assert.equal(h.incompatibleFeatures, 0);
    assert.equal(h.compatibleFeatures, 0);
    assert.equal(h.autoclearFeatures, 0);
    assert.equal(h.backingFileOffset, 0);
    assert.equal(h.nbSnapshots, 0);
    assert.equal(h.l1Size, 1);
    assert.deepEqual(Array.from(readFileSync(qcow2).subarray(112, 120)), [0, 0, 0, 0, 0, 0, 0, 0]);
    const info = JSON.parse(run('qemu-img', ['info', '--output=json', qcow2]).stdout) as Record<string, unknown>;
    assert.equal(info['format'], 'qcow2', 'qemu-img probes the file as qcow2 without -f');
  } finally {
    dir.remove();
  }
});

test('all-zero segments leave every cluster unallocated', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = imageFromSegments(8 * MiB, [
      bytesSegment(100, new Uint8Array(3 * MiB)),
      lazySegment(5 * MiB - 7, MiB, () => new Uint8Array(MiB)),
    ]);
    const result = await writeBoth(dir.path, 'zeros', image);
    assert.equal(result.check['allocated-clusters'] ?? 0, 0, 'qemu-img omits the key when nothing is allocated');
    const map = JSON.parse(run('qemu-img', ['map', '-f', 'qcow2', '--output=json', result.qcow2]).stdout) as { data: boolean }[];
    assert.ok(map.length > 0 && map.every((extent) => !extent.data), 'qemu-img map shows no data extents');
    assert.equal(header(result.qcow2).l1Size, 1);
    assert.deepEqual(readEntries(result.qcow2, header(result.qcow2).l1TableOffset, 1), [0n]);
    assert.ok(statSync(result.qcow2).size <= 4 * 64 * KiB, `${statSync(result.qcow2).size} bytes for an all-zero image`);
  } finally {
    dir.remove();
  }
});

test('a 20 GiB sparse qcow2 holds a few data regions in a small file', async () => {
  const dir = tempDir('qcow2');
  try {
    const size = 20 * GiB;
    const image = fourRegionImage(size, 31);
    const result = await writeBoth(dir.path, 'big', image);
    const h = header(result.qcow2);
    assert.equal(h.size, size);
    assert.equal(h.l1Size, 40);
    const dataClusters = 16 + 33 + 2 + 1;
    assert.equal(result.check['allocated-clusters'], dataClusters);
    assert.ok(statSync(result.qcow2).size < (dataClusters + 16) * 64 * KiB);
    const raw = statSync(result.raw);
    assert.ok(raw.blocks * 512 < 8 * MiB, 'the raw image is sparse too');
  } finally {
    dir.remove();
  }
});

test('sizes that are not a multiple of the cluster (or of 512 bytes) round up to whole sectors', async () => {
  const dir = tempDir('qcow2');
  try {
    for (const [name, image] of oddSizeImages(41)) {
      const result = await writeBoth(dir.path, name, image);
      assert.equal(header(result.qcow2).size, Math.ceil(image.size / 512) * 512, name);
    }
  } finally {
    dir.remove();
  }
});

test('an empty image gives a qcow2 with no L1 table, as qemu-img create does', async () => {
  const dir = tempDir('qcow2');
  try {
    const result = await writeBoth(dir.path, 'empty', imageFromSegments(0, []));
    const h = header(result.qcow2);
    assert.equal(h.size, 0);
    assert.equal(h.l1Size, 0);
    assert.equal(h.l1TableOffset, 0);
    assert.equal(statSync(result.qcow2).size, 3 * 64 * KiB);
  } finally {
    dir.remove();
  }
});

test('cluster sizes from 512 bytes to 2 MiB all check clean, compressed or not', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = randomImage(51, 6 * MiB + 512, 10, 600 * KiB);
    for (const clusterBits of [9, 12, 16, 21]) {
      for (const compress of [false, true]) {
        const result = await writeBoth(dir.path, `c${clusterBits}-${compress}`, image, { clusterBits, compress });
        assert.equal(header(result.qcow2).clusterBits, clusterBits);
        assert.equal(result.info['cluster-size'], 2 ** clusterBits);
      }
    }
  } finally {
    dir.remove();
  }
});

test('a 512-byte-cluster image spreads L1 and the refcount table over several clusters', async () => {
  const dir = tempDir('qcow2');
  try {
    // 512-byte clusters: one L2 table maps 32 KiB and one refcount block describes 256 clusters.
    // One refcount table cluster lists 64 blocks, so 16384 clusters (8 MiB): more needs two.
    const image = imageFromSegments(64 * MiB, [
      bytesSegment(0, seededBytes(52, 9 * MiB)),
      bytesSegment(40 * MiB, seededBytes(53, 100 * KiB)),
      bytesSegment(64 * MiB - 512, seededBytes(54, 512)),
    ]);
    const result = await writeBoth(dir.path, 'small-clusters', image, { clusterBits: 9 });
    const h = header(result.qcow2);
    assert.equal(h.l1Size, 2048);
    assert.equal(h.refcountTableClusters, 2);
  } finally {
    dir.remove();
  }
});

test('compressed qcow2 packs DEFLATE streams byte-granular and stores incompressible clusters as is', async () => {
  const dir = tempDir('qcow2');
  try {
    const clusterSize = 64 * KiB;
    const image = imageFromSegments(16 * MiB, [
      bytesSegment(0, seededBytes(61, 4 * clusterSize)), // incompressible: stored uncompressed
      bytesSegment(4 * clusterSize, textBytes(64 * clusterSize + 77, 'compressible ')),
      bytesSegment(10 * MiB + 5, seededBytes(62, 3 * clusterSize)),
      bytesSegment(15 * MiB, textBytes(MiB - 1, 'tail ')),
    ]);
    const plain = await writeBoth(dir.path, 'plain', image);
    const packed = await writeBoth(dir.path, 'packed', image, { compress: true });
    assert.ok(statSync(packed.qcow2).size < statSync(plain.qcow2).size / 5,
      `${statSync(packed.qcow2).size} compressed vs ${statSync(plain.qcow2).size} plain bytes`);

    // Walk our own L2 table: incompressible clusters are standard COPIED entries, the text
    // clusters compressed entries whose streams sit back to back in the same host clusters.
    const h = header(packed.qcow2);
    const [l1Entry] = readEntries(packed.qcow2, h.l1TableOffset, 1);
    const l2 = readEntries(packed.qcow2, Number(l1Entry! & ((1n << 56n) - 512n)), 256);
    const file = readFileSync(packed.qcow2);
    const compressedOffsets: number[] = [];
    for (let cluster = 0; cluster < 256; cluster++) {
      const entry = l2[cluster]!;
      if (entry === 0n) continue;
      const compressed = (entry >> 62n) & 1n;
      const copied = entry >> 63n;
      if (compressed === 0n) {
        assert.equal(copied, 1n, `cluster ${cluster} is COPIED`);
        continue;
      }
      assert.equal(copied, 0n, `compressed cluster ${cluster} has COPIED clear`);
      const offset = Number(entry & ((1n << 54n) - 1n));
      const sectors = Number((entry >> 54n) & 0xffn) + 1;
      const stream = file.subarray(offset, (offset & ~511) + sectors * 512);
      const expected = readAll(image).subarray(cluster * clusterSize, (cluster + 1) * clusterSize);
      assert.deepEqual(inflateRawSync(stream, { windowBits: 12 }).subarray(0, clusterSize), Buffer.from(expected), `cluster ${cluster}`);
      compressedOffsets.push(offset);
    }
    const isStandard = (cluster: number): boolean => l2[cluster] !== 0n && ((l2[cluster]! >> 62n) & 1n) === 0n;
    for (const cluster of [0, 1, 2, 3, 161, 162]) assert.ok(isStandard(cluster), `random cluster ${cluster} is stored as is`);
    for (const cluster of [4, 68, 163, 240, 255]) assert.ok(!isStandard(cluster), `cluster ${cluster} is compressed`);
    // Cluster 160 holds 65531 random bytes and 5 zeros: DEFLATE may or may not save a few bytes.
    assert.ok(compressedOffsets.length === 65 + 1 + 16 || compressedOffsets.length === 65 + 2 + 16, `${compressedOffsets.length} compressed clusters`);
    const sameHostCluster = compressedOffsets.filter((o, i) => i > 0 && Math.floor(o / clusterSize) === Math.floor(compressedOffsets[i - 1]! / clusterSize));
    assert.ok(sameHostCluster.length > 50, 'many streams share a host cluster');
    assert.match(packed.checkText, /compressed clusters/);
  } finally {
    dir.remove();
  }
});

test('qemu-img compare catches a one-byte difference (negative control)', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = randomImage(71, 4 * MiB, 6, 300 * KiB);
    for (const compress of [false, true]) {
      const { raw, qcow2 } = await writeBoth(dir.path, `neg-${compress}`, image, { compress });
      const position = 4 * MiB - 1 - 4096 * 3;
      const fd = openSync(raw, 'r+');
      const byte = new Uint8Array(1);
      readSync(fd, byte, 0, 1, position);
      byte[0] = byte[0]! ^ 0x01;
      writeSync(fd, byte, 0, 1, position);
      closeSync(fd);
      const result = run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, qcow2]);
      assert.equal(result.status, 1, result.stdout + result.stderr);
      // qemu-img reports the start of the first differing 512-byte sector.
      assert.match(result.stdout, new RegExp(`Content mismatch at offset ${Math.floor(position / 512) * 512}!`));
    }
  } finally {
    dir.remove();
  }
});

test('qemu-img check catches a refcount that is too high or too low (negative control)', async () => {
  const dir = tempDir('qcow2');
  try {
    const { qcow2 } = await writeBoth(dir.path, 'refcount', randomImage(72, 2 * MiB, 3, 100 * KiB));
    const h = header(qcow2);
    const [firstBlock] = readEntries(qcow2, h.refcountTableOffset, 1);
    const fd = openSync(qcow2, 'r+');
    writeSync(fd, Uint8Array.of(0, 2), 0, 2, Number(firstBlock)); // header cluster: refcount 2
    const leak = run('qemu-img', ['check', '-f', 'qcow2', qcow2]);
    assert.equal(leak.status, 3, leak.stdout + leak.stderr);
    assert.match(leak.stdout + leak.stderr, /Leaked cluster 0 refcount=2 reference=1/);
    writeSync(fd, Uint8Array.of(0, 0), 0, 2, Number(firstBlock)); // header cluster: refcount 0
    closeSync(fd);
    const corrupt = run('qemu-img', ['check', '-f', 'qcow2', qcow2]);
    assert.equal(corrupt.status, 2, corrupt.stdout + corrupt.stderr);
    assert.match(corrupt.stdout + corrupt.stderr, /ERROR cluster 0 refcount=0 reference=1/);
  } finally {
    dir.remove();
  }
});

test('bad qcow2 options, and images too large for the cluster size, are rejected', async () => {
  const dir = tempDir('qcow2');
  try {
    // 512-byte clusters map at most 128 GiB (a 32 MiB L1 table), as qemu-img create also says.
    const tooLarge = imageFromSegments(128 * GiB + 512, []);
    const out = OutputFile.create(join(dir.path, 'large.qcow2'));
    await assert.rejects(writeQcow2(tooLarge, out, { clusterBits: 9 }), /L1 table would exceed 33554432 bytes/);
    out.abort();
    const limit = await writeTo(join(dir.path, 'limit.qcow2'), (o) => writeQcow2(imageFromSegments(128 * GiB, [bytesSegment(128 * GiB - 1, Uint8Array.of(1))]), o, { clusterBits: 9 }));
    assertCleanQcow2(limit, 128 * GiB);
    await assertUsageErrors(dir.path, 'bad.qcow2', (o, options: Qcow2Options) => writeQcow2(imageFromSegments(MiB, []), o, options), [
      [{ clusterBits: 8 }, /cluster bits 8/],
      [{ clusterBits: 22 }, /cluster bits 22/],
      [{ clusterBits: 16.5 }, /cluster bits 16\.5/],
      [{ compress: 'yes' }, /compress "yes"/],
      [{ clusterSize: 65536 }, /option "clusterSize"/],
    ]);
  } finally {
    dir.remove();
  }
});
