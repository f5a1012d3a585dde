import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import {
  bytesSegment, imageFromSegments, lazySegment, readAll, type BlockImage, type Segment,
} from '../../src/core/block-image.js';
import { ImageError, InterruptedError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import type { ProgressEvent } from '../../src/core/progress.js';
import { writeQcow2, type Qcow2Options } from '../../src/container/qcow2.js';
import { qcow2Header } from '../../src/container/qcow2-format.js';
import { writeRaw } from '../../src/container/raw.js';
import { run, tempDir } from '../helpers/run.js';
import {
  assertCleanQcow2, assertSameContent, randomImage, seededBytes, sha256File, textBytes, type Qcow2Verdict,
} from './fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;

async function writeTo(path: string, write: (out: OutputFile) => Promise<void>): Promise<string> {
  const out = OutputFile.create(path);
  try {
    await write(out);
    return out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
}

interface Written extends Qcow2Verdict {
  readonly raw: string;
  readonly qcow2: string;
}

/** Writes `image` as raw and as qcow2 and checks the qcow2 with qemu-img against the raw. */
async function writeBoth(dir: string, name: string, image: BlockImage, options: Qcow2Options = {}): Promise<Written> {
  const raw = await writeTo(join(dir, `${name}.raw`), (out) => writeRaw(image, out));
  const qcow2 = await writeTo(join(dir, `${name}.qcow2`), (out) => writeQcow2(image, out, options));
  const verdict = assertCleanQcow2(qcow2, Math.ceil(image.size / 512) * 512);
  assertSameContent(raw, qcow2);
  return { raw, qcow2, ...verdict };
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
      const image = imageFromSegments(base.size + 4 * MiB, [
        ...base.segments(),
        lazySegment(base.size + 1, MiB, () => textBytes(MiB, `lazy ${seed} `)),
        { offset: base.size + 2 * MiB - 77, length: 2 * MiB, source: { kind: 'file', path: file, offset: 0 } },
      ]);
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
    const image = imageFromSegments(size, [
      bytesSegment(0, seededBytes(31, 1 * MiB)),
      bytesSegment(5 * GiB + 99, seededBytes(32, 2 * MiB + 1)),
      bytesSegment(12 * GiB - 100, seededBytes(33, 200)), // crosses an L2 table boundary
      bytesSegment(size - 5000, seededBytes(34, 5000)),
    ]);
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
    const cases: [string, BlockImage][] = [
      ['cluster-tail', imageFromSegments(MiB + 4096, [bytesSegment(MiB + 4000, seededBytes(41, 96))])],
      ['odd-size', imageFromSegments(1_000_003, [bytesSegment(999_000, seededBytes(42, 1003))])],
      ['tiny', imageFromSegments(1000, [bytesSegment(0, seededBytes(43, 1000))])],
    ];
    for (const [name, image] of cases) {
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

test('qcow2 reads the image once, in order, and runs each producer once', async () => {
  const dir = tempDir('qcow2');
  try {
    let listings = 0;
    const produced = new Map<number, number>();
    const segments = Array.from({ length: 40 }, (_, i) =>
      lazySegment(i * 300 * KiB + 13, 200 * KiB, () => {
        produced.set(i, (produced.get(i) ?? 0) + 1);
        return textBytes(200 * KiB, `segment ${i} `);
      }));
    const image: BlockImage = { size: 12 * MiB, segments: () => (listings++, segments) };
    for (const compress of [false, true]) {
      listings = 0;
      produced.clear();
      await writeTo(join(dir.path, `once-${compress}.qcow2`), (out) => writeQcow2(image, out, { compress }));
      assert.equal(listings, 1);
      assert.equal(produced.size, 40);
      assert.ok([...produced.values()].every((n) => n === 1));
    }
  } finally {
    dir.remove();
  }
});

test('writing the same image twice gives the same bytes', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = randomImage(81, 9 * MiB + 17, 14, 900 * KiB);
    for (const options of [{}, { compress: true }, { clusterBits: 12, compress: true }] as Qcow2Options[]) {
      const a = await writeTo(join(dir.path, 'a.qcow2'), (out) => writeQcow2(image, out, options));
      const b = await writeTo(join(dir.path, 'b.qcow2'), (out) => writeQcow2(image, out, options));
      assert.equal(sha256File(a), sha256File(b), JSON.stringify(options));
    }
  } finally {
    dir.remove();
  }
});

test('qcow2 progress runs from 0 to the image size under the default or the given phase', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = imageFromSegments(100 * MiB, mebibyteSegments(80, 0));
    for (const phase of [undefined, 'write nixos.qcow2']) {
      const events: ProgressEvent[] = [];
      await writeTo(join(dir.path, 'p.qcow2'), (out) =>
        writeQcow2(image, out, {}, { onProgress: (e) => events.push(e), ...(phase === undefined ? {} : { phase }) }));
      assert.ok(events.length >= 4, `only ${events.length} events`);
      assert.equal(events[0]!.done, 0);
      assert.equal(events.at(-1)!.done, image.size);
      for (const e of events) assert.equal(e.phase, phase ?? 'write qcow2');
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.done >= events[i - 1]!.done);
    }
  } finally {
    dir.remove();
  }
});

test('aborting a qcow2 write through the AbortSignal leaves no file behind', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = imageFromSegments(256 * MiB, mebibyteSegments(256, 0));
    for (const compress of [false, true]) {
      const controller = new AbortController();
      const out = OutputFile.create(join(dir.path, `aborted-${compress}.qcow2`));
      let events = 0;
      await assert.rejects(
        writeQcow2(image, out, { compress }, {
          signal: controller.signal,
          onProgress: () => {
            if (++events === 2) controller.abort('SIGINT');
          },
        }),
        InterruptedError,
      );
      out.abort();
      assert.equal(events, 2, 'the writer stopped at the next checkpoint');
      assert.equal(existsSync(out.finalPath), false);
      assert.equal(existsSync(out.temporaryPath), false);
    }
  } finally {
    dir.remove();
  }
});

test('bad qcow2 options, and images too large for the cluster size, are rejected', async () => {
  const dir = tempDir('qcow2');
  try {
    const image = imageFromSegments(MiB, []);
    const bad: [unknown, RegExp][] = [
      [{ clusterBits: 8 }, /cluster bits 8/],
      [{ clusterBits: 22 }, /cluster bits 22/],
      [{ clusterBits: 16.5 }, /cluster bits 16\.5/],
      [{ compress: 'yes' }, /compress "yes"/],
      [{ clusterSize: 65536 }, /option "clusterSize"/],
    ];
    // 512-byte clusters map at most 128 GiB (a 32 MiB L1 table), as qemu-img create also says.
    const tooLarge = imageFromSegments(128 * GiB + 512, []);
    const out = OutputFile.create(join(dir.path, 'large.qcow2'));
    await assert.rejects(writeQcow2(tooLarge, out, { clusterBits: 9 }), /L1 table would exceed 33554432 bytes/);
    out.abort();
    const limit = await writeTo(join(dir.path, 'limit.qcow2'), (o) => writeQcow2(imageFromSegments(128 * GiB, [bytesSegment(128 * GiB - 1, Uint8Array.of(1))]), o, { clusterBits: 9 }));
    assertCleanQcow2(limit, 128 * GiB);
    for (const [options, message] of bad) {
      const out = OutputFile.create(join(dir.path, 'bad.qcow2'));
      await assert.rejects(writeQcow2(image, out, options as Qcow2Options), (e: unknown) => e instanceof ImageError && e.exitCode === 2 && message.test(e.message));
      out.abort();
    }
  } finally {
    dir.remove();
  }
});

/** `count` lazily produced 1 MiB segments of text, back to back from `offset`. */
function mebibyteSegments(count: number, offset: number): Segment[] {
  return Array.from({ length: count }, (_, i) => lazySegment(offset + i * MiB, MiB, () => textBytes(MiB, `block ${i} `)));
}
