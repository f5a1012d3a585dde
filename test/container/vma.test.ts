import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdSink } from '../../src/compress/zstd.js';
import { bytesSegment, imageFromSegments, isAllZero, lazySegment, readAll, type BlockImage, type Segment } from '../../src/core/block-image.js';
import { UsageError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../../src/core/sink.js';
import { PROXMOX_DEVICE_NAME, proxmoxQemuServerConf } from '../../src/container/proxmox-config.js';
import { writeRaw } from '../../src/container/raw.js';
import { writeVma, type VmaOptions } from '../../src/container/vma.js';
import { HashSink } from '../compress/fixtures.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { readVma, VmaFormatError, type VmaContents } from '../helpers/vma-reader.js';
import { fourRegionImage, randomImage, rssGrowthWhileWriting, seededBytes, sha256File, withLazyAndFile, writeTo } from './fixtures.js';

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

function rawOf(path: string, image: BlockImage): Promise<string> {
  return writeTo(path, (out) => writeRaw(image, out));
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
      const image = withLazyAndFile(base, seed, file, 2 * MiB, base.size + 4 * MiB + 1234);
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
    const image = fourRegionImage(size, 31);
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

test('the VMA seed and epoch change the archive (its uuid, ctime and md5s)', async () => {
  const image = randomImage(81, 9 * MiB + 17, 14, 900 * KiB);
  const digest = async (options: VmaOptions): Promise<string> => {
    const sink = new HashSink();
    await writeVma(image, sink, options);
    return sink.digest();
  };
  const base = await digest(OPTIONS);
  assert.notEqual(await digest({ ...OPTIONS, seed: 'other' }), base);
  assert.notEqual(await digest({ ...OPTIONS, epoch: 2 }), base);
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

test('VMA memory stays flat over 1 GiB', async (t) => {
  const segments: Segment[] = Array.from({ length: 1024 }, (_, i) => lazySegment(i * MiB + 13, MiB - 100, () => seededBytes(i + 1, MiB - 100)));
  const image = imageFromSegments(GiB + MiB, segments);
  const growth = await rssGrowthWhileWriting((sink) => writeVma(image, sink, OPTIONS));
  t.diagnostic(`RSS growth ${growth.toFixed(1)} MiB`);
  assert.ok(growth < 100, `RSS grew by ${growth.toFixed(0)} MiB`);
});
