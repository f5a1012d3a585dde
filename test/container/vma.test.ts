import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdSink } from '../../src/compress/zstd.js';
import { bytesSegment, imageFromSegments, isAllZero, lazySegment, readAll, type BlockImage, type Segment } from '../../src/core/block-image.js';
import { InterruptedError, UsageError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import type { ProgressEvent } from '../../src/core/progress.js';
import { outputFileSink, type ByteSink } from '../../src/core/sink.js';
import { PROXMOX_DEVICE_NAME, proxmoxQemuServerConf } from '../../src/container/proxmox-config.js';
import { writeRaw } from '../../src/container/raw.js';
import { writeVma, type VmaOptions } from '../../src/container/vma.js';
import { HashSink } from '../compress/fixtures.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { readVma, VmaFormatError, type VmaContents } from '../helpers/vma-reader.js';
import { randomImage, seededBytes, sha256File, textBytes } from './fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;

const CONFIG = proxmoxQemuServerConf({ qemuConf: { name: 'nixos-test' } });
const OPTIONS: VmaOptions = { config: CONFIG, deviceName: PROXMOX_DEVICE_NAME, seed: 'test-seed', epoch: 1_700_000_000 };

async function vmaTo(path: string, image: BlockImage, options: VmaOptions = OPTIONS, compress = false): Promise<string> {
  const out = OutputFile.create(path);
  const file = outputFileSink(out);
  const compressor = compress ? zstdSink(file) : undefined;
  const sink: ByteSink = compressor ?? file;
  try {
    await writeVma(image, sink, options);
    await sink.close();
    return out.commit();
  } catch (error) {
    await compressor?.abort();
    out.abort();
    throw error;
  }
}

async function rawOf(path: string, image: BlockImage): Promise<string> {
  const out = OutputFile.create(path);
  await writeRaw(image, out);
  return out.commit();
}

/** Writes the archive, reads it back with the independent reader, and checks the restored disk. */
async function roundTrip(dir: string, name: string, image: BlockImage, options: VmaOptions = OPTIONS): Promise<{ vma: string; contents: VmaContents; restored: string; raw: string }> {
  const vma = await vmaTo(join(dir, `${name}.vma`), image, options);
  const restored = join(dir, `${name}.restored`);
  const contents = readVma(vma, () => restored);
  const raw = await rawOf(join(dir, `${name}.raw`), image);
  assert.equal(statSync(restored).size, image.size);
  const compare = run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', raw, restored]);
  assert.equal(compare.status, 0, `${name}: restored disk differs\n${compare.stdout}${compare.stderr}`);
  return { vma, contents, restored, raw };
}

/** Non-zero 4 KiB blocks of an image (what the archive must store). */
function nonZeroBlocks(image: BlockImage): number {
  const bytes = readAll(image);
  let blocks = 0;
  for (let at = 0; at < bytes.length; at += 4096) if (!isAllZero(bytes.subarray(at, at + 4096))) blocks++;
  return blocks;
}

test('VMA of random unaligned segments restores byte for byte, with every extent checked', async () => {
  const dir = tempDir('vma');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(14, 2 * MiB));
    for (const seed of [11, 12, 13]) {
      const base = randomImage(seed, 13 * MiB + 4321, 20, 700 * KiB);
      const image = imageFromSegments(base.size + 4 * MiB + 1234, [
        ...base.segments(),
        lazySegment(base.size + 1, MiB, () => textBytes(MiB, `lazy ${seed} `)),
        { offset: base.size + 2 * MiB - 77, length: 2 * MiB, source: { kind: 'file', path: file, offset: 0 } },
      ]);
      const { contents, vma } = await roundTrip(dir.path, `seed${seed}`, image);
      const clusters = Math.ceil(image.size / (64 * KiB));
      assert.equal(contents.extents, Math.ceil(clusters / 59));
      assert.ok(contents.clustersPerExtent.slice(0, -1).every((n) => n === 59), 'full extents list 59 clusters');
      assert.equal(contents.clustersPerExtent.reduce((a, b) => a + b), clusters, 'every cluster listed once');
      assert.equal(contents.storedBlocks, nonZeroBlocks(image), 'exactly the non-zero 4 KiB blocks are stored');
      assert.equal(statSync(vma).size, contents.headerSize + 512 * contents.extents + 4096 * contents.storedBlocks);
    }
  } finally {
    dir.remove();
  }
});

test('VMA header: magic, version, seed uuid, epoch ctime, config blob and device, as Proxmox lays them out', async () => {
  const dir = tempDir('vma');
  try {
    const image = imageFromSegments(3 * MiB, [bytesSegment(5000, seededBytes(1, 100))]);
    const { contents, vma } = await roundTrip(dir.path, 'header', image);
    assert.equal(contents.ctime, 1_700_000_000);
    assert.match(contents.uuid, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/, 'a version-4-shaped uuid');
    assert.deepEqual(contents.configs.map((c) => c.name), ['qemu-server.conf']);
    assert.equal(Buffer.from(contents.configs[0]!.data).toString('utf8'), CONFIG, 'the config text round-trips');
    assert.deepEqual(contents.devices, [{ id: 1, name: 'drive-virtio0', size: 3 * MiB }]);
    const bytes = readFileSync(vma);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'VMA\0');
    // Blob buffer as Proxmox's writer fills it: byte 0 unused, "qemu-server.conf\0", the
    // config, "drive-virtio0\0", each after a little-endian u16 length; grown in 512-byte steps.
    const configLength = Buffer.byteLength(CONFIG);
    assert.equal(contents.blobBufferSize, 1 + (2 + 17) + (2 + configLength) + (2 + 14));
    // Proxmox's writer grows the buffer, when a blob does not fit, by the blob rounded up to 512.
    let allocated = 0;
    let used = 1;
    for (const length of [17, configLength, 14]) {
      if (allocated < used + length + 2) allocated += Math.ceil((length + 2) / 512) * 512;
      used += length + 2;
    }
    assert.equal(contents.headerSize, 12288 + allocated);
    assert.equal(contents.headerSize % 512, 0);
    assert.deepEqual([bytes[12288 + 1], bytes[12288 + 2]], [17, 0], 'little-endian blob length');
    assert.equal(bytes.subarray(12288 + 3, 12288 + 3 + 17).toString('latin1'), 'qemu-server.conf\0');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    assert.equal(view.getUint32(2044, false), 1, 'config_names[0] points at position 1');
    assert.equal(view.getUint32(3068, false), 20, 'config_data[0] follows the name');
    assert.equal(view.getUint32(4096 + 32, false), 20 + 2 + configLength, 'dev_info[1].devname_ptr after the config');
  } finally {
    dir.remove();
  }
});

test('a 16 GiB sparse disk becomes a small archive that restores exactly', async () => {
  const dir = tempDir('vma');
  try {
    const size = 16 * GiB;
    const image = imageFromSegments(size, [
      bytesSegment(0, seededBytes(31, MiB)),
      bytesSegment(5 * GiB + 99, seededBytes(32, 2 * MiB + 1)),
      bytesSegment(12 * GiB - 100, seededBytes(33, 200)),
      bytesSegment(size - 5000, seededBytes(34, 5000)),
    ]);
    const { contents, vma } = await roundTrip(dir.path, 'sparse', image);
    const clusters = size / (64 * KiB);
    assert.equal(contents.extents, Math.ceil(clusters / 59));
    assert.ok(statSync(vma).size < 12288 + 512 * contents.extents + 4 * MiB, `${statSync(vma).size} bytes`);
  } finally {
    dir.remove();
  }
});

test('odd disk sizes: the last cluster and block are partial', async () => {
  const dir = tempDir('vma');
  try {
    for (const [name, image] of [
      ['one-byte', imageFromSegments(1, [bytesSegment(0, Uint8Array.of(0x5a))])],
      ['odd', imageFromSegments(1_000_003, [bytesSegment(999_000, seededBytes(42, 1003))])],
      ['block-tail', imageFromSegments(64 * KiB + 4097, [bytesSegment(64 * KiB + 4000, seededBytes(43, 97))])],
      ['zeros', imageFromSegments(3 * MiB + 512, [])],
      ['cluster-exact', imageFromSegments(59 * 64 * KiB, [bytesSegment(0, seededBytes(44, 59 * 64 * KiB))])],
      ['one-past-extent', imageFromSegments(59 * 64 * KiB + 1, [bytesSegment(59 * 64 * KiB, Uint8Array.of(1))])],
    ] as [string, BlockImage][]) {
      const { contents } = await roundTrip(dir.path, name, image);
      assert.equal(contents.devices[0]!.size, image.size, name);
      assert.equal(contents.extents, Math.ceil(Math.ceil(image.size / (64 * KiB)) / 59), name);
    }
  } finally {
    dir.remove();
  }
});

test('.vma.zst: the archive through zstdSink passes zstd -t and restores after zstd -dc', async () => {
  const dir = tempDir('vma');
  try {
    const image = randomImage(17, 40 * MiB + 512, 25, 2 * MiB);
    const zst = await vmaTo(join(dir.path, 'vzdump-qemu-nixos.vma.zst'), image, OPTIONS, true);
    runOk('zstd', ['-t', '-q', zst]);
    const vma = join(dir.path, 'unpacked.vma');
    runOk('bash', ['-c', `zstd -q -dc '${zst}' > '${vma}'`]);
    const plain = await vmaTo(join(dir.path, 'plain.vma'), image);
    assert.equal(sha256File(vma), sha256File(plain), 'zstd -dc gives back the plain archive');
    const restored = join(dir.path, 'restored');
    readVma(vma, () => restored);
    const raw = await rawOf(join(dir.path, 'raw'), image);
    runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', raw, restored]);
  } finally {
    dir.remove();
  }
});

test('VMA output is deterministic; the seed changes only the uuid and the md5s', async () => {
  const image = randomImage(81, 9 * MiB + 17, 14, 900 * KiB);
  const digest = async (options: VmaOptions): Promise<string> => {
    const sink = new HashSink();
    await writeVma(image, sink, options);
    assert.equal(sink.closed, false, 'the caller closes the sink');
    return sink.digest();
  };
  assert.equal(await digest(OPTIONS), await digest(OPTIONS));
  assert.notEqual(await digest({ ...OPTIONS, seed: 'other' }), await digest(OPTIONS));
  assert.notEqual(await digest({ ...OPTIONS, epoch: 2 }), await digest(OPTIONS));
});

test('the reader catches flipped header and extent bytes, truncation and a missing cluster (negative controls)', async () => {
  const dir = tempDir('vma');
  try {
    const image = randomImage(71, 8 * MiB, 6, 300 * KiB);
    const vma = await vmaTo(join(dir.path, 'good.vma'), image);
    const good = readFileSync(vma);
    const contents = readVma(vma);
    const extentAt = contents.headerSize;
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['ctime', (b) => { b[30]! ^= 1; }, /header @32: md5/],
      ['reserved header byte', (b) => { b[100]! ^= 1; }, /header @32: md5/],
      ['config text', (b) => { b[12288 + 40]! ^= 1; }, /header @32: md5/],
      ['header md5', (b) => { b[40]! ^= 1; }, /header @32: md5/],
      ['magic', (b) => { b[0] = 0x57; }, /magic 574d4100/],
      ['extent blockinfo', (b) => { b[extentAt + 100]! ^= 1; }, /md5/],
      ['extent md5', (b) => { b[extentAt + 30]! ^= 1; }, /md5/],
      ['extent uuid, md5 recomputed', (b) => {
        b[extentAt + 9]! ^= 1;
        const header = b.subarray(extentAt, extentAt + 512);
        header.fill(0, 24, 40);
        header.set(createHash('md5').update(header).digest(), 24);
      }, /uuid/],
      ['blockinfo reserved byte, md5 recomputed', (b) => {
        b[extentAt + 40 + 2]! = 1;
        const header = b.subarray(extentAt, extentAt + 512);
        header.fill(0, 24, 40);
        header.set(createHash('md5').update(header).digest(), 24);
      }, /reserved byte/],
    ];
    for (const [name, damage, message] of cases) {
      const bytes = Buffer.from(good);
      damage(bytes);
      const path = join(dir.path, 'bad.vma');
      writeFileSync(path, bytes);
      assert.throws(() => readVma(path), (e: unknown) => e instanceof VmaFormatError && message.test(e.message), name);
    }
    const short = join(dir.path, 'short.vma');
    writeFileSync(short, good);
    truncateSync(short, good.length - 100);
    assert.throws(() => readVma(short), /bytes left, an extent header needs 512|block_count/);
    truncateSync(short, contents.headerSize + 512 + 300);
    assert.throws(() => readVma(short), /block_count \d+ needs \d+ bytes/);
    truncateSync(short, contents.headerSize);
    assert.throws(() => readVma(short), /cluster 0 of drive-virtio0 is missing/);

    // A flipped data byte passes every VMA check (the format has no data checksum): the
    // restored disk differs. In a .vma.zst, zstd's frame checksums catch it.
    const bytes = Buffer.from(good);
    assert.ok(good.readUInt16BE(extentAt + 6) > 0, 'the first extent stores data');
    bytes[extentAt + 512 + 10]! ^= 1;
    const path = join(dir.path, 'data.vma');
    writeFileSync(path, bytes);
    const restored = join(dir.path, 'data.restored');
    readVma(path, () => restored);
    const raw = await rawOf(join(dir.path, 'data.raw'), image);
    assert.equal(run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', raw, restored]).status, 1);
  } finally {
    dir.remove();
  }
});

test('VMA options are checked', async () => {
  const image = imageFromSegments(MiB, []);
  const fails = (options: VmaOptions, target: BlockImage = image): Promise<void> => assert.rejects(writeVma(target, new HashSink(), options), UsageError);
  await fails({ ...OPTIONS, config: '' });
  await fails({ ...OPTIONS, config: 'x'.repeat(65536) });
  await fails({ ...OPTIONS, deviceName: '' });
  await fails({ ...OPTIONS, deviceName: 'drive virtio0' });
  await fails({ ...OPTIONS, deviceName: 'vmstate' });
  await fails({ ...OPTIONS, epoch: -1 });
  await fails({ ...OPTIONS, epoch: 1.5 });
  await fails({ ...OPTIONS, compress: true } as never);
  await fails(OPTIONS, imageFromSegments(0, []));
});

test('VMA reads the image once, in order, runs each producer once, and keeps memory flat over 1 GiB', async (t) => {
  let listings = 0;
  const produced = new Map<number, number>();
  const segments: Segment[] = Array.from({ length: 1024 }, (_, i) =>
    lazySegment(i * MiB + 13, MiB - 100, () => {
      produced.set(i, (produced.get(i) ?? 0) + 1);
      return seededBytes(i + 1, MiB - 100);
    }));
  const image: BlockImage = { size: GiB + MiB, segments: () => (listings++, segments) };
  const before = process.memoryUsage().rss;
  let peak = before;
  const sink: ByteSink = { position: 0, write: async () => { peak = Math.max(peak, process.memoryUsage().rss); }, close: async () => undefined };
  await writeVma(image, sink, OPTIONS);
  const growth = (peak - before) / MiB;
  t.diagnostic(`RSS growth ${growth.toFixed(1)} MiB`);
  assert.equal(listings, 1);
  assert.equal(produced.size, 1024);
  assert.ok([...produced.values()].every((n) => n === 1));
  assert.ok(growth < 100, `RSS grew by ${growth.toFixed(0)} MiB`);
});

test('VMA progress and cancellation', async () => {
  const image = imageFromSegments(256 * MiB, Array.from({ length: 200 }, (_, i) => bytesSegment(i * MiB + 7, textBytes(MiB, `p${i} `))));
  for (const phase of [undefined, 'write vzdump-qemu-nixos.vma.zst']) {
    const events: ProgressEvent[] = [];
    await writeVma(image, new HashSink(), OPTIONS, { onProgress: (e) => events.push(e), ...(phase === undefined ? {} : { phase }) });
    assert.ok(events.length >= 4);
    assert.equal(events[0]!.done, 0);
    assert.equal(events.at(-1)!.done, image.size);
    for (const e of events) assert.equal(e.phase, phase ?? 'write vma');
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.done >= events[i - 1]!.done);
  }
  const dir = tempDir('vma');
  try {
    const controller = new AbortController();
    const out = OutputFile.create(join(dir.path, 'aborted.vma.zst'));
    const sink = zstdSink(outputFileSink(out));
    let events = 0;
    await assert.rejects(writeVma(image, sink, OPTIONS, {
      signal: controller.signal,
      onProgress: () => {
        if (++events === 2) controller.abort('SIGINT');
      },
    }), InterruptedError);
    await sink.abort();
    out.abort();
    assert.equal(events, 2);
    assert.equal(existsSync(out.temporaryPath), false);
  } finally {
    dir.remove();
  }
});
