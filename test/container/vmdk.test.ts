import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesSegment, imageFromSegments, lazySegment, type BlockImage } from '../../src/core/block-image.js';
import { OutputFile } from '../../src/core/output-file.js';
import { UnitCache } from '../../src/core/unit-cache.js';
import { outputFileSink } from '../../src/core/sink.js';
import { writeRaw } from '../../src/container/raw.js';
import { writeVmdk, writeVmdkStream, type VmdkOptions } from '../../src/container/vmdk.js';
import { runOk, tempDir } from '../helpers/run.js';
import {
  assertUsageErrors, fourRegionImage, oddSizeImages, randomImage, seededBytes, sha256File, textBytes, withLazyAndFile, writeTo,
} from './fixtures.js';
import { assertCleanVmdk, assertVmdkEqualsRaw, walkStreamOptimized, type Subformat } from './vmdk-fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;
const SUBFORMATS: readonly Subformat[] = ['monolithicSparse', 'streamOptimized'];

/** Writes `image` as raw and as both VMDK subformats, and checks each VMDK against the raw. */
async function writeAll(dir: string, name: string, image: BlockImage, extra: Partial<VmdkOptions> = {}): Promise<{ raw: string; vmdk: Record<Subformat, string> }> {
  const raw = await writeTo(join(dir, `${name}.raw`), (out) => writeRaw(image, out));
  const vmdk = {} as Record<Subformat, string>;
  for (const subformat of SUBFORMATS) {
    vmdk[subformat] = await writeTo(join(dir, `${name}-${subformat}.vmdk`), (out) => writeVmdk(image, out, { subformat, seed: name, ...extra }));
    assertCleanVmdk(vmdk[subformat], Math.ceil(image.size / 512) * 512, subformat);
    assertVmdkEqualsRaw(raw, vmdk[subformat]);
  }
  return { raw, vmdk };
}

test('both subformats of random unaligned segments pass qemu-img check, info, compare and vmdkinfo', async () => {
  const dir = tempDir('vmdk');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(14, 2 * MiB));
    for (const seed of [11, 12]) {
      const base = randomImage(seed, 37 * MiB + 4321, 24, 3 * MiB);
      const image = withLazyAndFile(base, seed, file, 2 * MiB, base.size + 4 * MiB);
      const { vmdk } = await writeAll(dir.path, `seed${seed}`, image);
      walkStreamOptimized(vmdk.streamOptimized, image);
    }
  } finally {
    dir.remove();
  }
});

/** Our monolithicSparse file and qemu-img's for the same raw image, with the descriptor compared separately. */
function compareWithQemu(ours: string, qemu: string, fileName: string): void {
  const a = readFileSync(ours);
  const b = readFileSync(qemu);
  assert.equal(a.length, b.length, 'same file length');
  assert.deepEqual(a.subarray(0, 512), b.subarray(0, 512), 'same header');
  assert.ok(a.subarray(21 * 512).equals(b.subarray(21 * 512)), 'same grain directories, grain tables and grains');
  // The descriptor ends at its first NUL, as readers take it. qemu-img rewrites it in place
  // with its random CID, and when that CID is shorter than the one it first wrote, the tail
  // of the earlier text stays behind after the NUL ("\0\"\n"): only the text before it counts.
  const text = (buffer: Buffer): string => `${buffer.subarray(512, 21 * 512).toString('latin1').split('\0')[0]!.replace(/\n+$/, '')}\n`;
  const qemuText = text(b).replace(/^CID=[0-9a-f]{1,8}$/m, 'CID=x').replace(/ SPARSE ".*"$/m, ` SPARSE "${fileName}"`);
  assert.equal(text(a).replace(/^CID=[0-9a-f]{1,8}$/m, 'CID=x'), qemuText, 'same descriptor apart from CID and file name');
}

test('monolithicSparse is byte-identical to qemu-img convert except the CID and the file name', async () => {
  const dir = tempDir('vmdk');
  try {
    const cases: [string, BlockImage, string[]][] = [
      ['random', randomImage(21, 70 * MiB + 1234, 30, 3 * MiB), []],
      ['tables', imageFromSegments(300 * MiB, [bytesSegment(5, seededBytes(1, 100)), bytesSegment(97 * MiB, seededBytes(2, 3 * MiB)), bytesSegment(300 * MiB - 1, Uint8Array.of(1))]), []],
      ['odd', imageFromSegments(1_000_003, [bytesSegment(999_000, seededBytes(3, 1003))]), []],
      ['zeros', imageFromSegments(8 * MiB, [bytesSegment(100, new Uint8Array(3 * MiB))]), []],
      ['lsilogic', randomImage(22, 9 * MiB, 4, MiB), ['adapter_type=lsilogic', 'hwversion=6']],
      ['legacy', randomImage(23, 9 * MiB, 4, MiB), ['adapter_type=legacyESX']],
      ['buslogic', randomImage(24, 9 * MiB, 4, MiB), ['adapter_type=buslogic']],
      ['s1', randomImage(25, 3 * MiB, 3, 500 * KiB), []], // seed "s1" gives a 7-digit CID, printed unpadded as qemu does
    ];
    for (const [name, image, qemuOptions] of cases) {
      const raw = await writeTo(join(dir.path, `${name}.raw`), (out) => writeRaw(image, out));
      const options: Record<string, string> = Object.fromEntries(qemuOptions.map((o) => o.split('=') as [string, string]));
      const ours = await writeTo(join(dir.path, `${name}.vmdk`), (out) => writeVmdk(image, out, {
        subformat: 'monolithicSparse', seed: name,
        ...(options['adapter_type'] === undefined ? {} : { adapterType: options['adapter_type'] as VmdkOptions['adapterType'] & string }),
        ...(options['hwversion'] === undefined ? {} : { hwVersion: options['hwversion'] }),
      }));
      const qemu = join(dir.path, `${name}-qemu.vmdk`);
      runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', ...(qemuOptions.length > 0 ? ['-o', qemuOptions.join(',')] : []), raw, qemu]);
      compareWithQemu(ours, qemu, `${name}.vmdk`);
      assertCleanVmdk(ours, Math.ceil(image.size / 512) * 512, 'monolithicSparse');
      const cid = /^CID=([0-9a-f]+)$/m.exec(readFileSync(ours).subarray(512, 1024).toString('latin1'))![1]!;
      const info = JSON.parse(runOk('qemu-img', ['info', '--output=json', ours]).stdout) as { 'format-specific': { data: { cid: number } } };
      assert.equal(info['format-specific'].data.cid, parseInt(cid, 16), 'qemu-img reads our CID');
      if (name === 's1') assert.equal(cid.length, 7);
    }
  } finally {
    dir.remove();
  }
});

test('streamOptimized: markers, zlib grains, grain tables and directory at the end, footer and end-of-stream', async () => {
  const dir = tempDir('vmdk');
  try {
    // Data in grain-table ranges 0, 1 and 3 (32 MiB each), none in range 2.
    const image = imageFromSegments(130 * MiB + 7, [
      bytesSegment(0, seededBytes(31, 100 * KiB)),
      bytesSegment(33 * MiB - 5, textBytes(10, 'x')),
      bytesSegment(100 * MiB, new Uint8Array(5 * MiB)), // zeros: no grain
      bytesSegment(130 * MiB, seededBytes(32, 7)),
    ]);
    const { vmdk } = await writeAll(dir.path, 'layout', image);
    const layout = walkStreamOptimized(vmdk.streamOptimized, image);
    assert.equal(layout.grains, 2 + 2 + 1);
    assert.equal(layout.tables, 3, 'no grain table for the range without data');
  } finally {
    dir.remove();
  }
});

test('an image of zeros has no grains; a 20 GiB sparse image stays small in both subformats', async () => {
  const dir = tempDir('vmdk');
  try {
    const zeros = await writeAll(dir.path, 'zeros', imageFromSegments(40 * MiB, [lazySegment(MiB, 2 * MiB, () => new Uint8Array(2 * MiB))]));
    assert.equal(walkStreamOptimized(zeros.vmdk.streamOptimized, imageFromSegments(40 * MiB, [])).grains, 0);
    assert.equal(statSync(zeros.vmdk.monolithicSparse).size, 128 * 512, 'only the metadata area');

    const size = 20 * GiB;
    const image = fourRegionImage(size, 41);
    const big = await writeAll(dir.path, 'big', image);
    assert.ok(statSync(big.vmdk.monolithicSparse).blocks * 512 < 8 * MiB, `${statSync(big.vmdk.monolithicSparse).blocks * 512} bytes allocated`);
    assert.ok(statSync(big.vmdk.streamOptimized).size < 8 * MiB, `${statSync(big.vmdk.streamOptimized).size} bytes`);
  } finally {
    dir.remove();
  }
});

test('odd sizes round up to whole sectors; the last partial grain is a whole compressed grain', async () => {
  const dir = tempDir('vmdk');
  try {
    for (const [name, image] of oddSizeImages(51, 'grain-tail')) {
      const { vmdk } = await writeAll(dir.path, name, image);
      walkStreamOptimized(vmdk.streamOptimized, image);
    }
  } finally {
    dir.remove();
  }
});

test('the CID comes from the seed', async () => {
  const dir = tempDir('vmdk');
  try {
    const image = randomImage(61, 9 * MiB + 17, 14, 900 * KiB);
    for (const subformat of SUBFORMATS) {
      const a = await writeTo(join(dir.path, 'a.vmdk'), (out) => writeVmdk(image, out, { subformat, seed: 'same', fileName: 'x.vmdk' }));
      const c = await writeTo(join(dir.path, 'c.vmdk'), (out) => writeVmdk(image, out, { subformat, seed: 'other', fileName: 'x.vmdk' }));
      const cid = (path: string): string => /CID=([0-9a-f]{1,8})/.exec(readFileSync(path).subarray(512, 1024).toString('latin1'))![1]!;
      assert.notEqual(cid(a), cid(c), subformat);
    }
  } finally {
    dir.remove();
  }
});

test('writeVmdkStream writes to any ByteSink and leaves it open; it refuses monolithicSparse', async () => {
  const dir = tempDir('vmdk');
  try {
    const image = randomImage(71, 5 * MiB, 5, 500 * KiB);
    const out = OutputFile.create(join(dir.path, 'stream.vmdk'));
    const sink = outputFileSink(out);
    await writeVmdkStream(image, sink, { subformat: 'streamOptimized', seed: 's', fileName: 'stream.vmdk' });
    await sink.close();
    assert.equal(sink.position % 512, 0);
    const path = out.commit();
    assertCleanVmdk(path, 5 * MiB, 'streamOptimized');
    await assert.rejects(writeVmdkStream(image, sink, { subformat: 'monolithicSparse', seed: 's' }), /only streamOptimized/);
  } finally {
    dir.remove();
  }
});

test('bad VMDK options are rejected as usage errors', async () => {
  const dir = tempDir('vmdk');
  try {
    await assertUsageErrors(dir.path, 'bad.vmdk', (out, options: VmdkOptions) => writeVmdk(imageFromSegments(MiB, []), out, options), [
      [{ subformat: 'twoGbMaxExtentSparse', seed: 's' }, /subformat "twoGbMaxExtentSparse"/],
      [{ subformat: 'monolithicSparse', seed: '' }, /without a seed/],
      [{ subformat: 'monolithicSparse', seed: 's', adapterType: 'scsi' }, /adapter type "scsi"/],
      [{ subformat: 'streamOptimized', seed: 's', hwVersion: 'x' }, /hardware version "x"/],
      [{ subformat: 'streamOptimized', seed: 's', fileName: 'a"b' }, /name a VMDK extent/],
      [{ subformat: 'monolithicSparse', seed: 's', compress: true }, /option "compress"/],
    ]);
  } finally {
    dir.remove();
  }
});

test('streamOptimized grains from the unit cache: the same bytes cold, warm and without it; after a change only its grains are made again', async () => {
  const dir = tempDir('vmdk-cache');
  try {
    const image = randomImage(31, 24 * MiB + 777, 16, 2 * MiB);
    // The same image with one segment's bytes changed in place.
    const segments = [...image.segments()];
    const changedAt = segments[5]!;
    const changedImage = imageFromSegments(image.size, segments.map((s) => (s === changedAt ? bytesSegment(s.offset, seededBytes(99, s.length)) : s)));
    const cacheAt = join(dir.path, 'cache');
    const build = async (name: string, which: BlockImage, withCache: boolean): Promise<{ sum: string; cache: UnitCache | undefined }> => {
      const cache = withCache ? new UnitCache({ directory: cacheAt, maxBytes: 1 << 30, warn: (line) => assert.fail(line) }) : undefined;
      const path = await writeTo(join(dir.path, `${name}.vmdk`), (out) => writeVmdk(which, out, { subformat: 'streamOptimized', seed: 'cache', fileName: 'disk.vmdk', cache }));
      return { sum: sha256File(path), cache };
    };
    const plain = await build('plain', image, false);
    const cold = await build('cold', image, true);
    const warm = await build('warm', image, true);
    const { grains } = walkStreamOptimized(join(dir.path, 'plain.vmdk'), image);
    assert.ok(grains > 100, `${grains} grains`);
    // Equal grains (the text repeats) are found even in the cold build.
    assert.equal(cold.cache!.misses + cold.cache!.hits, grains);
    assert.deepEqual([warm.cache!.hits, warm.cache!.misses], [grains, 0]);
    assert.deepEqual([cold.sum, warm.sum], [plain.sum, plain.sum]);

    const changedPlain = await build('changed-plain', changedImage, false);
    const changedWarm = await build('changed-warm', changedImage, true);
    assert.equal(changedWarm.sum, changedPlain.sum);
    walkStreamOptimized(join(dir.path, 'changed-warm.vmdk'), changedImage);
    const touched = Math.floor((changedAt.offset + changedAt.length - 1) / (64 * KiB)) - Math.floor(changedAt.offset / (64 * KiB)) + 1;
    assert.ok(changedWarm.cache!.misses >= 1 && changedWarm.cache!.misses <= touched, `${changedWarm.cache!.misses} of ${touched}`);
  } finally {
    dir.remove();
  }
});
