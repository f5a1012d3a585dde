import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesSegment, imageFromSegments, lazySegment, type BlockImage } from '../../src/core/block-image.js';
import { crc32c } from '../../src/core/checksum.js';
import { ImageError } from '../../src/core/errors.js';
import { guidFromBytes } from '../../src/core/guid.js';
import { OutputFile } from '../../src/core/output-file.js';
import { deriveUuid } from '../../src/core/reproducible.js';
import { writeRaw } from '../../src/container/raw.js';
import { writeVhdx, type VhdxOptions } from '../../src/container/vhdx.js';
import {
  BAT_REGION_GUID, fileIdentifier, FILE_PARAMETERS_GUID, LOGICAL_SECTOR_SIZE_GUID, METADATA_REGION_GUID, metadataTableEntry,
  metadataTableHeader, PHYSICAL_SECTOR_SIZE_GUID, regionTableEntry, regionTableHeader, vhdxHeader, VIRTUAL_DISK_ID_GUID,
  VIRTUAL_DISK_SIZE_GUID,
} from '../../src/container/vhdx-format.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import {
  assertUsageErrors, fourRegionImage, randomImage, readAt, seededBytes, sha256File, withLazyAndFile, writeAt, writeTo,
} from './fixtures.js';
import { assertSameContent, qemuInfo, vhdiinfo } from './vhd-fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;
const TiB = 2 ** 40;
const SEED = 'test-disk';

/** A decoded VHDX: what our tests compare, read with the project's own structure tables. */
interface Decoded {
  readonly identifier: ReturnType<typeof fileIdentifier.decode>;
  readonly headers: ReturnType<typeof vhdxHeader.decode>[];
  readonly headerCrcOk: boolean[];
  readonly regionTables: Uint8Array[];
  readonly regionCrcOk: boolean[];
  readonly regions: { guid: string; fileOffset: number; length: number; required: number }[];
  readonly metadataEntries: { itemId: string; offset: number; length: number; flags: number }[];
  readonly items: Map<string, Uint8Array>;
  readonly bat: { state: number; offset: number }[];
  readonly fileSize: number;
}

function crcOk(bytes: Uint8Array): boolean {
  const copy = Uint8Array.from(bytes);
  const stored = new DataView(copy.buffer).getUint32(4, true);
  copy.fill(0, 4, 8);
  return crc32c(copy) === stored;
}

function decode(path: string): Decoded {
  const identifier = fileIdentifier.decode(readAt(path, 0, fileIdentifier.size));
  const headerBytes = [readAt(path, 64 * KiB, 4 * KiB), readAt(path, 128 * KiB, 4 * KiB)];
  const regionTables = [readAt(path, 192 * KiB, 64 * KiB), readAt(path, 256 * KiB, 64 * KiB)];
  const table = regionTables[0]!;
  const count = regionTableHeader.decode(table).entryCount;
  const regions = Array.from({ length: count }, (_, i) => {
    const e = regionTableEntry.decode(table, 16 + 32 * i);
    return { guid: guidFromBytes(e.guid), fileOffset: e.fileOffset, length: e.length, required: e.required };
  });
  const metadataRegion = regions.find((r) => r.guid === METADATA_REGION_GUID)!;
  const metadata = readAt(path, metadataRegion.fileOffset, metadataRegion.length);
  const metadataHeader = metadataTableHeader.decode(metadata);
  assert.equal(Buffer.from(metadataHeader.signature).toString('latin1'), 'metadata');
  const metadataEntries = Array.from({ length: metadataHeader.entryCount }, (_, i) => {
    const e = metadataTableEntry.decode(metadata, 32 + 32 * i);
    return { itemId: guidFromBytes(e.itemId), offset: e.offset, length: e.length, flags: e.flags };
  });
  const items = new Map(metadataEntries.map((e) => [e.itemId, metadata.slice(e.offset, e.offset + e.length)]));
  const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blockSize = view(items.get(FILE_PARAMETERS_GUID)!).getUint32(0, true);
  const virtualSize = Number(view(items.get(VIRTUAL_DISK_SIZE_GUID)!).getBigUint64(0, true));
  const ratio = (2 ** 23 * 512) / blockSize;
  const dataBlocks = Math.ceil(virtualSize / blockSize);
  const batRegion = regions.find((r) => r.guid === BAT_REGION_GUID)!;
  const entries = dataBlocks + Math.floor((dataBlocks - 1) / ratio);
  const batBytes = readAt(path, batRegion.fileOffset, entries * 8);
  const bat = Array.from({ length: entries }, (_, i) => {
    const value = view(batBytes).getBigUint64(i * 8, true);
    return { state: Number(value & 7n), offset: Number(value >> 20n) * MiB };
  });
  return {
    identifier,
    headers: headerBytes.map((b) => vhdxHeader.decode(b)),
    headerCrcOk: headerBytes.map(crcOk),
    regionTables,
    regionCrcOk: regionTables.map(crcOk),
    regions,
    metadataEntries,
    items,
    bat,
    fileSize: statSync(path).size,
  };
}

function u32(bytes: Uint8Array | undefined): number {
  return new DataView(bytes!.buffer, bytes!.byteOffset, bytes!.byteLength).getUint32(0, true);
}

/** Payload BAT entries in block order (the sector bitmap slots left out). */
function payloadEntries(d: Decoded, ratio: number): { state: number; offset: number }[] {
  return d.bat.filter((_, i) => (i + 1) % (ratio + 1) !== 0);
}

interface Written {
  readonly raw: string;
  readonly vhdx: string;
  readonly info: Record<string, unknown>;
}

/**
 * Writes `image` as raw and as VHDX and checks the VHDX with qemu-img and vhdiinfo. qemu's
 * VHDX driver reports no block status, so `qemu-img compare` reads every byte of the disk
 * (about 3 s per 10 GiB); for very large sparse disks pass `windows` to compare only those
 * byte ranges, and check the BAT for the rest (ZERO blocks must read as zeros).
 */
async function writeBoth(dir: string, name: string, image: BlockImage, options: VhdxOptions = { seed: SEED }, windows?: readonly (readonly [number, number])[]): Promise<Written> {
  const raw = await writeTo(join(dir, `${name}.raw`), (out) => writeRaw(image, out));
  const vhdx = await writeTo(join(dir, `${name}.vhdx`), (out) => writeVhdx(image, out, options));
  const virtualSize = Math.ceil(image.size / 512) * 512;
  assertCleanVhdx(vhdx);
  const info = qemuInfo(vhdx, 'vhdx');
  assert.equal(info['virtual-size'], virtualSize);
  if (windows === undefined) assertSameContent(raw, vhdx, 'vhdx');
  else for (const [offset, size] of windows) assertSameWindow(raw, vhdx, offset, size);
  const vhdi = vhdiinfo(vhdx);
  assert.equal(vhdi.format, 'VHDX (version 2)');
  assert.equal(vhdi.diskType, 'Dynamic');
  assert.equal(vhdi.mediaSize, virtualSize);
  assert.equal(vhdi.bytesPerSector, 512);
  assert.equal(vhdi.identifier, deriveUuid(options.seed, 'vhdx-data-write-guid').toLowerCase(), 'libvhdi shows the data write GUID');
  return { raw, vhdx, info };
}

/** `qemu-img compare` of one byte range, through the raw driver's offset and size options. */
function assertSameWindow(rawPath: string, vhdxPath: string, offset: number, size: number): void {
  const result = run('qemu-img', ['compare', '--image-opts',
    `driver=raw,offset=${offset},size=${size},file.driver=file,file.filename=${rawPath}`,
    `driver=raw,offset=${offset},size=${size},file.driver=vhdx,file.file.driver=file,file.file.filename=${vhdxPath}`]);
  assert.equal(result.status, 0, `qemu-img compare of [${offset}, +${size}) exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /Images are identical\./);
}

function assertCleanVhdx(path: string): void {
  const check = run('qemu-img', ['check', '-f', 'vhdx', path]);
  assert.equal(check.status, 0, `qemu-img check exited ${check.status}\n${check.stdout}\n${check.stderr}`);
  assert.match(check.stdout, /No errors were found on the image\./);
  assert.equal(check.stderr, '', 'no warnings');
  const json = JSON.parse(runOk('qemu-img', ['check', '-f', 'vhdx', '--output=json', path]).stdout) as Record<string, unknown>;
  assert.equal(json['check-errors'], 0);
  assert.equal(json['corruptions'], undefined);
  assert.equal(json['leaks'], undefined);
}

test('vhdx of random unaligned segments crossing blocks checks clean, has the exact size and the same content', async () => {
  const dir = tempDir('vhdx');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(14, 3 * MiB));
    for (const seed of [11, 12, 13]) {
      const base = randomImage(seed, 29 * MiB + 4321, 24, 2 * MiB);
      const image = withLazyAndFile(base, seed, file, 3 * MiB, base.size + 6 * MiB);
      const { info } = await writeBoth(dir.path, `seed${seed}`, image);
      assert.equal(info['cluster-size'], 8 * MiB);
    }
    // Smaller blocks give more, partly filled blocks.
    await writeBoth(dir.path, 'small-blocks', randomImage(15, 37 * MiB + 512, 30, 300 * KiB), { seed: SEED, blockSize: MiB });
  } finally {
    dir.remove();
  }
});

test('vhdx headers, region tables, metadata and BAT are laid out as documented', async () => {
  const dir = tempDir('vhdx');
  try {
    const size = 40 * MiB + 512;
    const image = imageFromSegments(size, [
      bytesSegment(100, seededBytes(21, 1000)), // block 0
      bytesSegment(16 * MiB - 10, seededBytes(22, 20)), // blocks 1 and 2
      bytesSegment(24 * MiB, new Uint8Array(8 * MiB)), // block 3: explicit zeros
      bytesSegment(size - 7, seededBytes(23, 7)), // block 5, partial
    ]);
    const { vhdx } = await writeBoth(dir.path, 'layout', image);
    const d = decode(vhdx);
    assert.equal(Buffer.from(d.identifier.signature).toString('latin1'), 'vhdxfile');
    assert.equal(Buffer.from(d.identifier.creator).toString('utf16le').replace(/\0+$/, ''), 'nixos-generate');

    assert.deepEqual(d.headerCrcOk, [true, true]);
    assert.deepEqual(d.headers.map((h) => h.sequenceNumber), [1, 2], 'header 2 is current');
    for (const h of d.headers) {
      assert.equal(Buffer.from(h.signature).toString('latin1'), 'head');
      assert.equal(guidFromBytes(h.fileWriteGuid), deriveUuid(SEED, 'vhdx-file-write-guid'));
      assert.equal(guidFromBytes(h.dataWriteGuid), deriveUuid(SEED, 'vhdx-data-write-guid'));
      assert.ok(h.logGuid.every((b) => b === 0), 'no log to replay');
      assert.equal(h.logVersion, 0);
      assert.equal(h.version, 1);
      assert.equal(h.logOffset, MiB);
      assert.equal(h.logLength, MiB);
    }
    assert.deepEqual(readAt(vhdx, 64 * KiB + 8, 4 * KiB - 8).subarray(8), readAt(vhdx, 128 * KiB + 8, 4 * KiB - 8).subarray(8), 'headers differ only in checksum and sequence number');

    assert.deepEqual(d.regionCrcOk, [true, true]);
    assert.deepEqual(d.regionTables[0], d.regionTables[1], 'two identical region tables');
    assert.deepEqual(d.regions, [
      { guid: BAT_REGION_GUID, fileOffset: 2 * MiB, length: MiB, required: 1 },
      { guid: METADATA_REGION_GUID, fileOffset: 3 * MiB, length: MiB, required: 1 },
    ]);

    assert.deepEqual(d.metadataEntries, [
      { itemId: FILE_PARAMETERS_GUID, offset: 64 * KiB, length: 8, flags: 4 },
      { itemId: VIRTUAL_DISK_SIZE_GUID, offset: 64 * KiB + 8, length: 8, flags: 6 },
      { itemId: VIRTUAL_DISK_ID_GUID, offset: 64 * KiB + 16, length: 16, flags: 6 },
      { itemId: LOGICAL_SECTOR_SIZE_GUID, offset: 64 * KiB + 32, length: 4, flags: 6 },
      { itemId: PHYSICAL_SECTOR_SIZE_GUID, offset: 64 * KiB + 36, length: 4, flags: 6 },
    ]);
    assert.deepEqual(Array.from(d.items.get(FILE_PARAMETERS_GUID)!), [0, 0, 0x80, 0, 0, 0, 0, 0], '8 MiB blocks, no flags');
    assert.equal(Number(new DataView(d.items.get(VIRTUAL_DISK_SIZE_GUID)!.buffer).getBigUint64(0, true)), size);
    assert.equal(guidFromBytes(d.items.get(VIRTUAL_DISK_ID_GUID)!), deriveUuid(SEED, 'vhdx-virtual-disk-id'));
    assert.equal(u32(d.items.get(LOGICAL_SECTOR_SIZE_GUID)), 512);
    assert.equal(u32(d.items.get(PHYSICAL_SECTOR_SIZE_GUID)), 512);

    // Payload from 4 MiB in guest order; blocks 3 and 4 hold no data and read as zero.
    assert.deepEqual(d.bat, [
      { state: 6, offset: 4 * MiB },
      { state: 6, offset: 12 * MiB },
      { state: 6, offset: 20 * MiB },
      { state: 2, offset: 0 },
      { state: 2, offset: 0 },
      { state: 6, offset: 28 * MiB },
    ]);
    assert.equal(d.fileSize, 36 * MiB, 'the file ends with the last block');
    const allocated = statSync(vhdx).blocks * 512;
    assert.ok(allocated < 8 * MiB, `${allocated} bytes allocated: zero windows inside blocks are holes`);
  } finally {
    dir.remove();
  }
});

test('vhdx layout matches qemu-img convert -O vhdx -o subformat=dynamic except where documented', async () => {
  const dir = tempDir('vhdx');
  try {
    const image = randomImage(31, 40 * MiB, 6, 3 * MiB);
    const { raw, vhdx } = await writeBoth(dir.path, 'ours', image);
    const reference = join(dir.path, 'qemu.vhdx');
    runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', raw, reference]);
    const ours = decode(vhdx);
    const theirs = decode(reference);
    assert.deepEqual(theirs.headerCrcOk, [true, true]);
    assert.deepEqual(theirs.regionTables[0], theirs.regionTables[1]);
    for (const field of ['logVersion', 'version', 'logLength', 'logOffset'] as const) {
      assert.deepEqual(ours.headers.map((h) => h[field]), theirs.headers.map((h) => h[field]), field);
    }
    assert.deepEqual(ours.headers.map((h) => h.logGuid), theirs.headers.map((h) => h.logGuid));
    assert.equal(theirs.headers[1]!.sequenceNumber, theirs.headers[0]!.sequenceNumber + 1, 'qemu also numbers the headers N, N+1');
    // Deliberate difference: Required = 1 as the specification lists it; qemu writes 0.
    assert.deepEqual(ours.regions.map((r) => ({ ...r, required: 0 })), theirs.regions);
    assert.deepEqual(theirs.regions.map((r) => r.required), [0, 0]);
    assert.deepEqual(ours.metadataEntries, theirs.metadataEntries, 'same items, order, offsets, lengths and flags');
    for (const id of [FILE_PARAMETERS_GUID, VIRTUAL_DISK_SIZE_GUID, LOGICAL_SECTOR_SIZE_GUID, PHYSICAL_SECTOR_SIZE_GUID]) {
      assert.deepEqual(ours.items.get(id), theirs.items.get(id), id);
    }
    // Same block states (qemu also marks data-less blocks ZERO); our payload starts right
    // after the metadata region, qemu's at a block-size boundary of its file.
    assert.deepEqual(ours.bat.map((e) => e.state), theirs.bat.map((e) => e.state));
    assert.ok(ours.bat.some((e) => e.state === 2) && ours.bat.some((e) => e.state === 6));
    assert.equal(ours.bat.find((e) => e.state === 6)!.offset, 4 * MiB);
    assert.equal(theirs.bat.find((e) => e.state === 6)!.offset, 8 * MiB);
    assert.ok(ours.fileSize <= theirs.fileSize);
  } finally {
    dir.remove();
  }
});

test('the default block size is the one qemu-img picks at each size boundary', async () => {
  const dir = tempDir('vhdx');
  try {
    const reference = join(dir.path, 'qemu.vhdx');
    const cases: [number, number][] = [
      [16 * MiB, 8 * MiB], [GiB, 8 * MiB], [GiB + 512, 16 * MiB], [4 * GiB, 16 * MiB],
      [100 * GiB, 16 * MiB], [100 * GiB + 512, 32 * MiB], [32 * TiB, 32 * MiB], [32 * TiB + 512, 64 * MiB],
    ];
    for (const [size, blockSize] of cases) {
      runOk('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', 'subformat=dynamic', reference, String(size)]);
      assert.equal(qemuInfo(reference, 'vhdx')['cluster-size'], blockSize, `qemu-img at ${size}`);
      const path = await writeTo(join(dir.path, 'ours.vhdx'), (out) =>
        writeVhdx(imageFromSegments(size, [bytesSegment(size - 512, seededBytes(41, 512))]), out, { seed: SEED }));
      assertCleanVhdx(path);
      const info = qemuInfo(path, 'vhdx');
      assert.equal(info['cluster-size'], blockSize, `ours at ${size}`);
      assert.equal(info['virtual-size'], size);
    }
  } finally {
    dir.remove();
  }
});

test('a sector bitmap slot follows every chunk_ratio payload entries and stays not present', async () => {
  const dir = tempDir('vhdx');
  try {
    // 256 MiB blocks: chunk ratio 16. 1 MiB blocks: chunk ratio 4096.
    for (const [blockSize, ratio, size] of [[256 * MiB, 16, 6 * GiB], [MiB, 4096, 5 * GiB + 3 * 512]] as const) {
      const blocks = Math.ceil(size / blockSize);
      const image = imageFromSegments(size, [
        bytesSegment(ratio * blockSize - 100, seededBytes(51, 300)), // the last block of chunk 0 and the first of chunk 1
        bytesSegment(size - 3, seededBytes(52, 3)),
      ]);
      const windows = [[(ratio - 1) * blockSize, 2 * blockSize], [(blocks - 1) * blockSize, size - (blocks - 1) * blockSize]] as const;
      const { vhdx } = await writeBoth(dir.path, `ratio${ratio}`, image, { seed: SEED, blockSize }, windows);
      const d = decode(vhdx);
      assert.equal(d.bat.length, blocks + Math.floor((blocks - 1) / ratio));
      assert.deepEqual(d.bat[ratio], { state: 0, offset: 0 }, 'sector bitmap slot');
      assert.equal(d.bat[ratio - 1]!.state, 6);
      assert.equal(d.bat[ratio + 1]!.state, 6);
      assert.equal(d.bat.at(-1)!.state, 6, 'the last entry is the last payload block');
      const payload = payloadEntries(d, ratio);
      assert.equal(payload.length, blocks);
      assert.equal(payload.filter((e) => e.state === 6).length, 3);
      assert.equal(payload.filter((e) => e.state === 2).length, blocks - 3);
    }
  } finally {
    dir.remove();
  }
});

test('a BAT larger than one write piece (200 GiB with 1 MiB blocks) is streamed to its place', async () => {
  const dir = tempDir('vhdx');
  try {
    const size = 200 * GiB;
    const image = imageFromSegments(size, [
      bytesSegment(0, seededBytes(61, 512)),
      bytesSegment(127 * GiB + 777, seededBytes(62, 2 * MiB)), // around BAT entry 131072
      bytesSegment(150 * GiB, seededBytes(63, 4096)),
      bytesSegment(size - 512, seededBytes(64, 512)),
    ]);
    const windows = [[0, 4 * MiB], [127 * GiB - MiB, 5 * MiB], [150 * GiB - MiB, 3 * MiB], [size - 4 * MiB, 4 * MiB]] as const;
    const { vhdx } = await writeBoth(dir.path, 'long-bat', image, { seed: SEED, blockSize: MiB }, windows);
    const d = decode(vhdx);
    assert.equal(d.bat.length, 204800 + 49);
    assert.equal(d.regions[0]!.length, 2 * MiB, 'BAT region rounded up to whole MiB');
    assert.equal(d.regions[1]!.fileOffset, 4 * MiB);
    const present = payloadEntries(d, 4096).flatMap((e, block) => (e.state === 6 ? [block] : []));
    assert.deepEqual(present, [0, 127 * 1024, 127 * 1024 + 1, 127 * 1024 + 2, 150 * 1024, 204799]);
    assert.ok(payloadEntries(d, 4096).every((e) => e.state === 6 || e.state === 2), 'every other block is ZERO');
    assert.equal(d.fileSize, 5 * MiB + present.length * MiB);
  } finally {
    dir.remove();
  }
});

test('a 20 GiB sparse vhdx holds a few data blocks in a small file', async () => {
  const dir = tempDir('vhdx');
  try {
    const size = 20 * GiB;
    const image = fourRegionImage(size, 71, 16 * MiB + 1); // data in blocks: one at 0, two at 5 GiB, two across 12 GiB, the last
    const windows = [[0, 32 * MiB], [5 * GiB - 16 * MiB, 64 * MiB], [12 * GiB - 32 * MiB, 64 * MiB], [size - 32 * MiB, 32 * MiB]] as const;
    const { vhdx, info } = await writeBoth(dir.path, 'big', image, { seed: SEED }, windows);
    assert.equal(info['cluster-size'], 16 * MiB);
    const d = decode(vhdx);
    assert.equal(d.bat.filter((e) => e.state === 6).length, 6);
    assert.equal(d.bat.filter((e) => e.state === 2).length, 1280 - 6, 'every other block is ZERO');
    assert.equal(d.fileSize, 4 * MiB + 6 * 16 * MiB);
    assert.ok(statSync(vhdx).blocks * 512 < 32 * MiB, `${statSync(vhdx).blocks * 512} bytes allocated`);
  } finally {
    dir.remove();
  }
});

test('an all-zero image gives a vhdx with no payload blocks', async () => {
  const dir = tempDir('vhdx');
  try {
    const image = imageFromSegments(30 * MiB, [bytesSegment(100, new Uint8Array(3 * MiB)), lazySegment(20 * MiB - 7, MiB, () => new Uint8Array(MiB))]);
    const { vhdx } = await writeBoth(dir.path, 'zeros', image);
    const d = decode(vhdx);
    assert.deepEqual(d.bat.map((e) => e.state), [2, 2, 2, 2]);
    assert.equal(d.fileSize, 4 * MiB);
  } finally {
    dir.remove();
  }
});

test('sizes that are not whole sectors round up to 512 bytes', async () => {
  const dir = tempDir('vhdx');
  try {
    for (const size of [1000, 8 * MiB + 1, 9 * MiB + 4097]) {
      await writeBoth(dir.path, `odd${size}`, imageFromSegments(size, [bytesSegment(size - 3, seededBytes(size, 3))]));
    }
  } finally {
    dir.remove();
  }
});

test('physical sector size 4096 is written to the metadata and still checks clean', async () => {
  const dir = tempDir('vhdx');
  try {
    const { vhdx } = await writeBoth(dir.path, 'p4k', randomImage(81, 9 * MiB, 4, 300 * KiB), { seed: SEED, physicalSectorSize: 4096 });
    const d = decode(vhdx);
    assert.equal(u32(d.items.get(PHYSICAL_SECTOR_SIZE_GUID)), 4096);
    assert.equal(u32(d.items.get(LOGICAL_SECTOR_SIZE_GUID)), 512);
  } finally {
    dir.remove();
  }
});

test('qemu-img notices broken headers, a BAT entry past the end and a changed byte (negative controls)', async () => {
  const dir = tempDir('vhdx');
  try {
    const { vhdx } = await writeBoth(dir.path, 'neg', randomImage(91, 20 * MiB, 6, 500 * KiB));
    // Header 2 (the current one) broken: qemu falls back to header 1, so both are valid.
    writeAt(vhdx, 128 * KiB + 100, Uint8Array.of(0xaa));
    assertCleanVhdx(vhdx);
    writeAt(vhdx, 64 * KiB + 100, Uint8Array.of(0xaa));
    const noHeader = run('qemu-img', ['info', '-f', 'vhdx', vhdx]);
    assert.notEqual(noHeader.status, 0);
    assert.match(noHeader.stderr, /No valid VHDX header found/);

    const { vhdx: second } = await writeBoth(dir.path, 'neg2', randomImage(92, 20 * MiB, 6, 500 * KiB));
    const entry = new Uint8Array(8);
    new DataView(entry.buffer).setBigUint64(0, (1000n << 20n) | 6n, true);
    writeAt(second, 2 * MiB + 8, entry);
    const past = run('qemu-img', ['check', '-f', 'vhdx', second]);
    assert.equal(past.status, 2, past.stdout + past.stderr);
    assert.match(past.stderr, /BAT entry 1 start offset 1048576000 points after end of file/);

    const { raw: thirdRaw, vhdx: third } = await writeBoth(dir.path, 'neg3', randomImage(93, 20 * MiB, 6, 500 * KiB));
    const block = decode(third).bat.find((e) => e.state === 6)!;
    const old = readAt(third, block.offset + 123, 1);
    writeAt(third, block.offset + 123, Uint8Array.of(old[0]! ^ 1));
    const compare = run('qemu-img', ['compare', '-f', 'raw', '-F', 'vhdx', thirdRaw, third]);
    assert.equal(compare.status, 1, compare.stdout + compare.stderr);
    assert.match(compare.stdout, /Content mismatch at offset/);
  } finally {
    dir.remove();
  }
});

test('vhdx GUIDs follow the seed, the layout does not', async () => {
  const dir = tempDir('vhdx');
  try {
    const image = randomImage(101, 25 * MiB + 17, 14, 2 * MiB);
    for (const options of [{ seed: SEED }, { seed: SEED, blockSize: MiB }] as VhdxOptions[]) {
      const a = await writeTo(join(dir.path, 'a.vhdx'), (out) => writeVhdx(image, out, options));
      const c = await writeTo(join(dir.path, 'c.vhdx'), (out) => writeVhdx(image, out, { ...options, seed: 'another-disk' }));
      assert.notEqual(sha256File(a), sha256File(c));
      const [da, dc] = [decode(a), decode(c)];
      assert.notDeepEqual(da.headers[0]!.fileWriteGuid, dc.headers[0]!.fileWriteGuid);
      assert.notDeepEqual(da.items.get(VIRTUAL_DISK_ID_GUID), dc.items.get(VIRTUAL_DISK_ID_GUID));
      assert.deepEqual(da.bat, dc.bat, 'the seed changes identities, not the layout');
    }
  } finally {
    dir.remove();
  }
});

test('bad vhdx options are usage errors; empty and over-64-TiB disks are refused', async () => {
  const dir = tempDir('vhdx');
  try {
    await assertUsageErrors(dir.path, 'bad.vhdx', (out, options: VhdxOptions) => writeVhdx(imageFromSegments(MiB, []), out, options), [
      [{ seed: '' }, /seed ""/],
      [{ seed: 's', blockSize: 512 * KiB }, /block size 524288/],
      [{ seed: 's', blockSize: 512 * MiB }, /block size 536870912/],
      [{ seed: 's', blockSize: 3 * MiB }, /block size 3145728/],
      [{ seed: 's', physicalSectorSize: 1024 }, /physical sector size 1024/],
      [{ seed: 's', logSize: MiB }, /option "logSize"/],
    ]);
    for (const [size, code] of [[0, 'vhdx.empty'], [64 * TiB + 512, 'vhdx.too-large']] as const) {
      const out = OutputFile.create(join(dir.path, 'refused.vhdx'));
      await assert.rejects(writeVhdx(imageFromSegments(size, []), out, { seed: SEED }), (e: unknown) => e instanceof ImageError && e.code === code);
      out.abort();
    }
  } finally {
    dir.remove();
  }
});
