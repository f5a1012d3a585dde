import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesSegment, imageFromSegments, lazySegment, type BlockImage } from '../../src/core/block-image.js';
import { ImageError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import { deriveUuid } from '../../src/core/reproducible.js';
import { writeRaw } from '../../src/container/raw.js';
import { writeVhd, type VhdOptions } from '../../src/container/vhd.js';
import {
  BAT_OFFSET, chsGeometry, onesComplementChecksum, vhdDynamicHeader, vhdFooter,
} from '../../src/container/vhd-format.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import {
  assertUsageErrors, fourRegionImage, randomImage, readAt, seededBytes, sha256File, withLazyAndFile, writeAt, writeTo,
} from './fixtures.js';
import { assertSameContent, qemuInfo, vhdiinfo } from './vhd-fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;
const BLOCK = 2 * MiB;
const EPOCH = 1_700_000_000;

type Subformat = VhdOptions['subformat'];

function options(subformat: Subformat, seed = 'test-disk', epoch = EPOCH): VhdOptions {
  return { subformat, seed, epoch };
}

interface Written {
  readonly raw: string;
  readonly vhd: string;
}

/**
 * Writes `image` as raw and as VHD, then checks the VHD with the reference tools: qemu-img
 * (no check support for vpc, so info and compare), and vhdiinfo.
 */
async function writeBoth(dir: string, name: string, image: BlockImage, subformat: Subformat, opts: VhdOptions = options(subformat)): Promise<Written> {
  const raw = await writeTo(join(dir, `${name}.raw`), (out) => writeRaw(image, out));
  const vhd = await writeTo(join(dir, `${name}.vhd`), (out) => writeVhd(image, out, opts));
  const virtualSize = Math.ceil(image.size / 512) * 512;
  const info = qemuInfo(vhd, 'vpc');
  assert.equal(info['format'], 'vpc');
  assert.equal(info['virtual-size'], virtualSize, 'qemu reads the exact size, not the CHS size');
  assertSameContent(raw, vhd, 'vpc');
  const vhdi = vhdiinfo(vhd);
  assert.equal(vhdi.format, 'VHD (version 1)');
  assert.equal(vhdi.diskType, subformat === 'fixed' ? 'Fixed' : 'Dynamic');
  assert.equal(vhdi.mediaSize, virtualSize);
  assert.equal(vhdi.bytesPerSector, 512);
  assert.equal(vhdi.identifier, deriveUuid(opts.seed, 'vhd-unique-id').toLowerCase());
  return { raw, vhd };
}

function footerAtEnd(path: string): ReturnType<typeof vhdFooter.decode> {
  return vhdFooter.decode(readAt(path, statSync(path).size - 512, 512));
}

function checksumOk(bytes: Uint8Array, checksumOffset: number): boolean {
  const copy = Uint8Array.from(bytes); // a copy (Buffer#slice would be a view)
  const stored = new DataView(copy.buffer).getUint32(checksumOffset, false);
  copy.fill(0, checksumOffset, checksumOffset + 4);
  return onesComplementChecksum(copy) === stored;
}

function readBat(path: string, entries: number): number[] {
  const bytes = readAt(path, BAT_OFFSET, entries * 4);
  const view = new DataView(bytes.buffer);
  return Array.from({ length: entries }, (_, i) => view.getUint32(i * 4, false));
}

test('vhd of random unaligned segments crossing blocks: exact size, identical content, vhdiinfo agrees', async () => {
  const dir = tempDir('vhd');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(14, 3 * MiB));
    for (const seed of [11, 12, 13]) {
      const base = randomImage(seed, 13 * MiB, 20, 900 * KiB);
      // Fixed needs whole MiB; dynamic gets sizes that are not a multiple of the 2 MiB block.
      await writeBoth(dir.path, `fixed${seed}`, withLazyAndFile(base, seed, file, 3 * MiB, base.size + 6 * MiB), 'fixed');
      await writeBoth(dir.path, `dynamic${seed}`, withLazyAndFile(base, seed, file, 3 * MiB, base.size + 5 * MiB + 512 * seed), 'dynamic');
    }
  } finally {
    dir.remove();
  }
});

test('qemu-img has no check for vpc: it says so, and compare is the content check', async () => {
  const dir = tempDir('vhd');
  try {
    const { vhd } = await writeBoth(dir.path, 'c', randomImage(15, 4 * MiB, 4, 300 * KiB), 'dynamic');
    const check = run('qemu-img', ['check', '-f', 'vpc', vhd]);
    assert.equal(check.status, 63, check.stdout + check.stderr);
    assert.match(check.stderr, /This image format does not support checks/);
  } finally {
    dir.remove();
  }
});

test('a fixed vhd is the raw bytes followed by a 512-byte footer with a valid checksum', async () => {
  const dir = tempDir('vhd');
  try {
    const image = randomImage(21, 24 * MiB, 10, 2 * MiB);
    const { raw, vhd } = await writeBoth(dir.path, 'f', image, 'fixed');
    const bytes = readFileSync(vhd);
    assert.equal(bytes.length, image.size + 512, 'file size = virtual size + 512, as Azure checks');
    assert.deepEqual(bytes.subarray(0, image.size), readFileSync(raw));
    const footerBytes = bytes.subarray(image.size);
    assert.ok(checksumOk(footerBytes, 64), 'one\'s complement checksum');
    const f = vhdFooter.decode(footerBytes);
    assert.equal(Buffer.from(f.cookie).toString('latin1'), 'conectix');
    assert.equal(f.features, 2);
    assert.equal(f.formatVersion, 0x00010000);
    assert.deepEqual(Array.from(f.dataOffset), [255, 255, 255, 255, 255, 255, 255, 255]);
    assert.equal(f.timestamp, EPOCH - 946684800);
    assert.equal(Buffer.from(f.creatorApplication).toString('latin1'), 'qem2');
    assert.equal(f.creatorVersion, 0x00050003);
    assert.equal(Buffer.from(f.creatorHostOs).toString('latin1'), 'Wi2k');
    assert.equal(f.originalSize, image.size);
    assert.equal(f.currentSize, image.size);
    assert.deepEqual({ cylinders: f.cylinders, heads: f.heads, sectorsPerTrack: f.sectorsPerTrack }, chsGeometry(image.size / 512));
    assert.deepEqual({ cylinders: f.cylinders, heads: f.heads, sectorsPerTrack: f.sectorsPerTrack }, { cylinders: 722, heads: 4, sectorsPerTrack: 17 });
    assert.equal(f.diskType, 2);
    assert.equal(Buffer.from(f.uniqueId).toString('hex'), deriveUuid('test-disk', 'vhd-unique-id').replace(/-/g, '').toLowerCase());
    assert.equal(f.savedState, 0);
    assert.ok(bytes.subarray(image.size + 85).every((b) => b === 0), 'reserved bytes are zero');
    const info = JSON.parse(run('qemu-img', ['info', '--output=json', vhd]).stdout) as Record<string, unknown>;
    assert.equal(info['format'], 'raw', 'without -f, qemu-img probes a fixed VHD as raw (nothing at offset 0 marks it)');
  } finally {
    dir.remove();
  }
});

test('a dynamic vhd has the footer copy, dynamic header, exact BAT, all-ones bitmaps and only non-zero blocks', async () => {
  const dir = tempDir('vhd');
  try {
    const size = 11 * MiB + 3 * 512; // 6 blocks, the last one partial
    const image = imageFromSegments(size, [
      bytesSegment(100, seededBytes(31, 1000)), // block 0
      bytesSegment(2 * BLOCK - 10, seededBytes(32, 20)), // blocks 1 and 2
      bytesSegment(3 * BLOCK, new Uint8Array(BLOCK)), // block 3: explicit zeros
      bytesSegment(size - 7, seededBytes(33, 7)), // block 5
    ]);
    const { raw, vhd } = await writeBoth(dir.path, 'd', image, 'dynamic');
    const file = readFileSync(vhd);
    const footer = file.subarray(file.length - 512);
    assert.deepEqual(file.subarray(0, 512), footer, 'footer copy at 0');
    assert.ok(checksumOk(footer, 64));
    const f = vhdFooter.decode(footer);
    assert.equal(f.diskType, 3);
    assert.deepEqual(Array.from(f.dataOffset), [0, 0, 0, 0, 0, 0, 2, 0]);
    assert.equal(f.currentSize, size);

    const headerBytes = file.subarray(512, 1536);
    assert.ok(checksumOk(headerBytes, 36), 'dynamic header checksum');
    const h = vhdDynamicHeader.decode(headerBytes);
    assert.equal(Buffer.from(h.cookie).toString('latin1'), 'cxsparse');
    assert.deepEqual(Array.from(h.dataOffset), [255, 255, 255, 255, 255, 255, 255, 255]);
    assert.equal(h.tableOffset, 1536);
    assert.equal(h.headerVersion, 0x00010000);
    assert.equal(h.maxTableEntries, 6, 'exactly ceil(size / 2 MiB) entries');
    assert.equal(h.blockSize, BLOCK);

    const bat = readBat(vhd, 6);
    const stride = (512 + BLOCK) / 512;
    assert.deepEqual(bat, [4, 4 + stride, 4 + 2 * stride, 0xffffffff, 0xffffffff, 4 + 3 * stride]);
    assert.ok(file.subarray(1536 + 24, 2048).every((b) => b === 0xff), 'BAT padding is 0xFF');
    const rawBytes = readFileSync(raw);
    for (const [block, sector] of [[0, bat[0]!], [1, bat[1]!], [2, bat[2]!], [5, bat[5]!]] as const) {
      const at = sector * 512;
      assert.ok(file.subarray(at, at + 512).every((b) => b === 0xff), `bitmap of block ${block}`);
      const data = file.subarray(at + 512, at + 512 + BLOCK);
      const expected = Buffer.alloc(BLOCK);
      rawBytes.copy(expected, 0, block * BLOCK, Math.min(size, (block + 1) * BLOCK));
      assert.deepEqual(data, expected, `data of block ${block}`);
    }
    assert.equal(file.length, 2048 + 4 * (512 + BLOCK) + 512);
  } finally {
    dir.remove();
  }
});

test('vhd bytes equal qemu-img convert -o force_size output except the footer fields that must differ', async () => {
  const dir = tempDir('vhd');
  try {
    const image = randomImage(41, 24 * MiB, 9, 3 * MiB);
    for (const subformat of ['fixed', 'dynamic'] as const) {
      const { raw, vhd } = await writeBoth(dir.path, subformat, image, subformat);
      const reference = join(dir.path, `${subformat}.qemu.vhd`);
      runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', `subformat=${subformat},force_size=on`, raw, reference]);
      const ours = readFileSync(vhd);
      const theirs = readFileSync(reference);
      assert.equal(ours.length, theirs.length, subformat);
      const footers = subformat === 'fixed' ? [ours.length - 512] : [0, ours.length - 512];
      const q = vhdFooter.decode(theirs.subarray(theirs.length - 512));
      const o = vhdFooter.decode(ours.subarray(ours.length - 512));
      assert.deepEqual([q.cylinders, q.heads, q.sectorsPerTrack], [65535, 16, 255], 'qemu-img force_size writes the maximum geometry');
      assert.deepEqual([o.cylinders, o.heads, o.sectorsPerTrack], [722, 4, 17], 'we write the specification geometry');
      assert.deepEqual(o.creatorApplication, q.creatorApplication);
      // Timestamp, geometry, checksum and unique id differ by design; everything else is equal.
      for (const at of footers) {
        for (const [from, to] of [[24, 28], [56, 60], [64, 84]]) {
          ours.fill(0, at + from!, at + to!);
          theirs.fill(0, at + from!, at + to!);
        }
      }
      assert.ok(ours.equals(theirs), `${subformat}: same bytes as qemu-img outside the footer's timestamp, geometry, checksum and id`);
    }
  } finally {
    dir.remove();
  }
});

test('CHS geometry equals what qemu-img computes for the sizes it rounds to', () => {
  const dir = tempDir('vhd');
  try {
    const path = join(dir.path, 'g.vhd');
    for (const size of ['1M', '10M', '100M', '127M', '500M', '1G', '4G', '32G', '127G', '130G', '1T']) {
      runOk('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', path, size]);
      const f = footerAtEnd(path);
      assert.equal(Buffer.from(f.creatorApplication).toString('latin1'), 'qemu');
      const geometry = chsGeometry(f.currentSize / 512);
      assert.deepEqual({ cylinders: f.cylinders, heads: f.heads, sectorsPerTrack: f.sectorsPerTrack }, geometry, size);
      const info = qemuInfo(path, 'vpc');
      if (geometry.cylinders === 65535 && geometry.heads === 16 && geometry.sectorsPerTrack === 255) {
        assert.equal(info['virtual-size'], f.currentSize, `${size}: maximum geometry, qemu uses current_size`);
      } else {
        assert.equal(f.currentSize, geometry.cylinders * geometry.heads * geometry.sectorsPerTrack * 512, `${size}: qemu rounds the size up to C×H×S`);
      }
    }
    for (const sectors of [1, 2047, 4096, 65535 * 16 * 63 - 1, 65535 * 16 * 63, 65535 * 16 * 255 + 100]) {
      const g = chsGeometry(sectors);
      assert.ok(g.cylinders * g.heads * g.sectorsPerTrack <= sectors, `C×H×S never exceeds ${sectors} sectors`);
    }
  } finally {
    dir.remove();
  }
});

test('the creator application decides whether qemu trusts the size: with "vpc " it falls back to C×H×S', async () => {
  const dir = tempDir('vhd');
  try {
    const size = 100 * MiB;
    const { vhd } = await writeBoth(dir.path, 'creator', imageFromSegments(size, [bytesSegment(0, seededBytes(51, 4096))]), 'fixed');
    const footer = readAt(vhd, size, 512);
    footer.set([0x76, 0x70, 0x63, 0x20], 28); // "vpc "
    footer.fill(0, 64, 68);
    new DataView(footer.buffer).setUint32(64, onesComplementChecksum(footer), false);
    writeAt(vhd, size, footer);
    const g = chsGeometry(size / 512);
    assert.deepEqual(g, { cylinders: 1003, heads: 12, sectorsPerTrack: 17 });
    assert.equal(qemuInfo(vhd, 'vpc')['virtual-size'], 1003 * 12 * 17 * 512, 'qemu reads 104756224 bytes, not 104857600');
  } finally {
    dir.remove();
  }
});

test('a broken footer checksum makes qemu refuse the file (negative control)', async () => {
  const dir = tempDir('vhd');
  try {
    const { vhd } = await writeBoth(dir.path, 'sum', randomImage(52, 4 * MiB, 3, 100 * KiB), 'fixed');
    const size = statSync(vhd).size;
    const footer = readAt(vhd, size - 512, 512);
    footer[67] = footer[67]! ^ 1;
    writeAt(vhd, size - 512, footer);
    const result = run('qemu-img', ['info', '-f', 'vpc', vhd]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Incorrect header checksum/);
  } finally {
    dir.remove();
  }
});

test('a 20 GiB sparse image: the dynamic vhd is small, the fixed one is sparse, both read back exactly', async () => {
  const dir = tempDir('vhd');
  try {
    const size = 20 * GiB;
    const image = fourRegionImage(size, 61); // data in blocks: one at 0, two at 5 GiB, two across 12 GiB, the last
    const dynamic = await writeBoth(dir.path, 'big-dynamic', image, 'dynamic');
    const blocks = 1 + 2 + 2 + 1;
    const entries = size / BLOCK;
    assert.equal(statSync(dynamic.vhd).size, 1536 + entries * 4 + blocks * (512 + BLOCK) + 512);
    const bat = readBat(dynamic.vhd, entries);
    assert.equal(bat.filter((e) => e !== 0xffffffff).length, blocks);
    const fixed = await writeBoth(dir.path, 'big-fixed', image, 'fixed');
    const stat = statSync(fixed.vhd);
    assert.equal(stat.size, size + 512);
    assert.ok(stat.blocks * 512 < 16 * MiB, `${stat.blocks * 512} bytes allocated for a sparse fixed VHD`);
  } finally {
    dir.remove();
  }
});

test('an all-zero image gives a dynamic vhd with no blocks', async () => {
  const dir = tempDir('vhd');
  try {
    const image = imageFromSegments(9 * MiB, [bytesSegment(100, new Uint8Array(3 * MiB)), lazySegment(5 * MiB - 7, MiB, () => new Uint8Array(MiB))]);
    const { vhd } = await writeBoth(dir.path, 'zeros', image, 'dynamic');
    assert.deepEqual(readBat(vhd, 5), [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    assert.equal(statSync(vhd).size, 2048 + 512);
  } finally {
    dir.remove();
  }
});

test('a fixed vhd needs a whole number of MiB; the limits are 2040 GiB and a non-empty disk', async () => {
  const dir = tempDir('vhd');
  try {
    const rejects = async (image: BlockImage, subformat: Subformat, code: string, message: RegExp): Promise<void> => {
      const out = OutputFile.create(join(dir.path, 'bad.vhd'));
      await assert.rejects(writeVhd(image, out, options(subformat)), (e: unknown) => e instanceof ImageError && e.code === code && message.test(e.message));
      out.abort();
      assert.equal(existsSync(out.finalPath), false);
    };
    await rejects(imageFromSegments(10 * MiB + 512, []), 'fixed', 'vhd.size-not-mib',
      /Cannot write a 10486272-byte disk as a fixed VHD: its size must be a whole number of MiB/);
    const oddSize = imageFromSegments(10 * MiB + 512, []);
    try {
      await writeTo(join(dir.path, 'odd.vhd'), (out) => writeVhd(oddSize, out, options('fixed')));
      assert.fail('expected a failure');
    } catch (error) {
      assert.ok(error instanceof ImageError);
      assert.match(error.oneLine(), /round the disk size up to 11534336 bytes \(11 MiB\)/);
    }
    const max = 2040 * GiB;
    for (const subformat of ['fixed', 'dynamic'] as const) {
      await rejects(imageFromSegments(max + MiB, []), subformat, 'vhd.too-large', /at most 2190433320960 bytes \(2040 GiB\)/);
      await rejects(imageFromSegments(0, []), subformat, 'vhd.empty', /empty/);
      const path = await writeTo(join(dir.path, `max-${subformat}.vhd`), (out) =>
        writeVhd(imageFromSegments(max, [bytesSegment(max - 512, seededBytes(71, 512))]), out, options(subformat)));
      assert.equal(qemuInfo(path, 'vpc')['virtual-size'], max, `${subformat} at the 2040 GiB limit opens in qemu`);
      assert.equal(vhdiinfo(path).mediaSize, max);
    }
  } finally {
    dir.remove();
  }
});

test('dynamic sizes that are not whole sectors round up to 512 bytes', async () => {
  const dir = tempDir('vhd');
  try {
    for (const size of [1000, 2 * MiB + 1, 3 * MiB + 4097]) {
      const image = imageFromSegments(size, [bytesSegment(size - 3, seededBytes(size, 3))]);
      const { vhd } = await writeBoth(dir.path, `odd${size}`, image, 'dynamic');
      assert.equal(footerAtEnd(vhd).currentSize, Math.ceil(size / 512) * 512);
    }
  } finally {
    dir.remove();
  }
});

test('vhd bytes follow the seed (the unique id) and the epoch (the timestamp, clamped)', async () => {
  const dir = tempDir('vhd');
  try {
    const image = randomImage(81, 9 * MiB, 14, 900 * KiB);
    for (const subformat of ['fixed', 'dynamic'] as const) {
      const a = await writeTo(join(dir.path, 'a.vhd'), (out) => writeVhd(image, out, options(subformat)));
      const other = await writeTo(join(dir.path, 'c.vhd'), (out) => writeVhd(image, out, options(subformat, 'another-disk')));
      assert.notEqual(sha256File(a), sha256File(other));
      assert.notDeepEqual(footerAtEnd(a).uniqueId, footerAtEnd(other).uniqueId);
      for (const [epoch, stamp] of [[0, 0], [946684800, 0], [946684801, 1], [946684800 + 0xffffffff + 10, 0xffffffff]] as const) {
        const path = await writeTo(join(dir.path, 'e.vhd'), (out) => writeVhd(image, out, options(subformat, 'test-disk', epoch)));
        assert.equal(footerAtEnd(path).timestamp, stamp, `epoch ${epoch}`);
      }
    }
  } finally {
    dir.remove();
  }
});

test('bad vhd options are usage errors', async () => {
  const dir = tempDir('vhd');
  try {
    await assertUsageErrors(dir.path, 'bad.vhd', (out, opts: VhdOptions) => writeVhd(imageFromSegments(MiB, []), out, opts), [
      [{ subformat: 'sparse', seed: 's', epoch: 1 }, /subformat "sparse"/],
      [{ subformat: 'fixed', seed: '', epoch: 1 }, /seed ""/],
      [{ subformat: 'fixed', seed: 's', epoch: -1 }, /epoch -1/],
      [{ subformat: 'fixed', seed: 's', epoch: 1.5 }, /epoch 1\.5/],
      [{ subformat: 'fixed', seed: 's', epoch: 1, forceSize: true }, /option "forceSize"/],
    ]);
  } finally {
    dir.remove();
  }
});
