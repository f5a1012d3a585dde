import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeImage, readWindows, type BlockImage, type Segment } from '../../../src/core/block-image.js';
import { ImageError } from '../../../src/core/errors.js';
import { BOOT_SECTOR_16, BOOT_SECTOR_32 } from '../../../src/fs/fat/boot-sector.js';
import { DIR_ENTRY } from '../../../src/fs/fat/dir-entry.js';
import { FSINFO } from '../../../src/fs/fat/fsinfo.js';
import { buildFat, computeFatGeometry, fatContentBytes, type FatOptions } from '../../../src/fs/fat/index.js';
import { LFN_ENTRY } from '../../../src/fs/fat/lfn.js';
import { dir, fileFromBytes, symlink, type DirNode, type FileNode, type NodeMeta, type TreeNode } from '../../../src/fs/tree.js';
import { run, runOk, tempDir } from '../../helpers/run.js';
import {
  compareWithTree, extractAll, fsckClean, META, MTOOLS_ENV, readImageRange, treeName, writeImage,
} from './fat-tools.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Deterministic bytes that differ from cluster to cluster, so misplaced clusters show. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const at = (mtime: number): NodeMeta => ({ ...META, mtime });

interface TreeOptions {
  /** Host directory for files given by path (content kind "host"). */
  readonly hostDir: string;
  /** Include the 5 MiB file and the 1000-entry directory. */
  readonly big: boolean;
  /** Reverse the insertion order of every directory (writers must sort). */
  readonly reversed?: boolean;
}

/** The tree every content test writes: an ESP plus the awkward cases. */
function sampleTree(options: TreeOptions): DirNode {
  const make = (entries: [string, TreeNode][]): DirNode => dir(META, options.reversed === true ? entries.reverse() : entries);
  const hostFile = (name: string, bytes: Uint8Array, mtime = META.mtime): FileNode => {
    const path = join(options.hostDir, name);
    writeFileSync(path, bytes);
    return { kind: 'file', ...at(mtime), size: bytes.length, content: { kind: 'host', path } };
  };
  let seed = 1;
  const sized = (size: number, mtime = META.mtime): FileNode => fileFromBytes(at(mtime), pattern(size, seed++));
  const shared = sized(3000);

  let deep: DirNode = make([['bottom.txt', sized(100)], ['BOTTOM2.TXT', sized(0)]]);
  for (let level = 20; level >= 1; level--) deep = make([[`level ${level}`, deep], [`f${level}`, sized(level * 37)]]);

  const entries: [string, TreeNode][] = [
    ['EFI', make([
      ['BOOT', make([['BOOTX64.EFI', options.big ? hostFile('bootx64', pattern(5 * MiB + 123, 99)) : hostFile('bootx64', pattern(150_000, 99))]])],
      ['systemd', make([['systemd-bootx64.efi', sized(70_001)]])],
      ['nixos', make([
        ['abc123-linux-6.6-bzImage.efi', sized(40_000, 1_600_000_001)],
        ['abc123-initrd-linux-6.6-initrd.efi', sized(20_000, 1_600_000_003)],
      ])],
    ])],
    ['loader', make([
      ['loader.conf', fileFromBytes(at(1_234_567_891), 'timeout 5\ndefault nixos-generation-1.conf\n')],
      ['entries', make(Array.from({ length: 12 }, (_, i): [string, TreeNode] => [
        `nixos-generation-${i + 1}.conf`, fileFromBytes(at(1_700_000_000 + i), `title NixOS\nversion Generation ${i + 1}\n`),
      ]))],
    ])],
    ['A file with a rather long name that spans several long-name entries, 80 chars.txt', sized(1)],
    ['Some Long Name 1.txt', sized(10)],
    ['Some Long Name 2.txt', sized(11)],
    ['SOMELO~1.TXT', sized(12)],
    ['somelo~3.txt', sized(13)],
    ['Readme.md', sized(14)],
    ['readme.txt', sized(15)],
    ['README.TOO', sized(16)],
    ['.hidden', sized(17)],
    ['a.b.c', sized(18)],
    ['empty', sized(0)],
    ['EMPTY2.TXT', sized(0)],
    ['emptydir', make([])],
    ['sizes', make([512, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 8192, 100_000].map((n): [string, TreeNode] => [`size-${n}.bin`, sized(n)]))],
    ['deep', deep],
    ['times', make([
      ['before 1980', sized(1, 0)],
      ['odd second', sized(1, 1_700_000_001)],
      ['y2038', sized(1, 2_147_483_647)],
    ])],
    [treeName('Ünïcødé файл.txt'), sized(19)],
    [treeName('日本語'), make([[treeName('中文名字.txt'), sized(20)], [treeName('Ελληνικά.md'), sized(21)]])],
    ['hardlink-a', shared],
    ['hardlink-b', shared],
  ];
  if (options.big) {
    entries.push(['many', make(Array.from({ length: 1000 }, (_, i): [string, TreeNode] => [
      `file number ${String(i).padStart(4, '0')} with a long name.txt`, sized(i % 3 === 0 ? 0 : 1 + (i % 700)),
    ]))]);
  }
  return make(entries);
}

function readFile(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

function sha256(image: BlockImage): string {
  const hash = createHash('sha256');
  let position = 0;
  const zeros = new Uint8Array(1 << 16);
  for (const w of readWindows(image, 1 << 16)) {
    for (; position < w.index * (1 << 16); position += zeros.length) hash.update(zeros);
    const length = Math.min(1 << 16, image.size - position);
    hash.update(w.data.subarray(0, length));
    position += length;
  }
  for (; position < image.size; position += zeros.length) hash.update(zeros.subarray(0, Math.min(zeros.length, image.size - position)));
  return hash.digest('hex');
}

/**
 * Writes the tree into a volume of `options.sizeBytes`, then checks it the way a user
 * would: fsck.fat finds nothing, mcopy gets every file back byte for byte with its time,
 * fatlabel reads the label, both FATs are identical, and the clusters in use are what
 * fatContentBytes promised.
 */
function roundTrip(tree: DirNode, options: FatOptions, expectedType: 12 | 16 | 32): { path: string; remove: () => void } {
  const t = tempDir('fat-roundtrip');
  try {
    checkRoundTrip(tree, options, expectedType, join(t.path, 'esp.img'), t.path);
    return t;
  } catch (error) {
    t.remove();
    throw error;
  }
}

function checkRoundTrip(tree: DirNode, options: FatOptions, expectedType: 12 | 16 | 32, img: string, work: string): void {
  const image = buildFat(tree, options);
  assert.equal(image.size, options.sizeBytes);
  writeImage(image, img);
  const g = computeFatGeometry(options.sizeBytes, options.fatType);
  assert.equal(g.fatType, expectedType);

  const fsck = fsckClean(img);
  assert.equal(fsck.dataClusters, g.clusterCount);
  assert.equal(fsck.usedClusters * g.clusterBytes, fatContentBytes(tree, options), 'clusters in use');

  const out = join(work, 'out');
  mkdirSync(out);
  extractAll(img, out);
  const files = compareWithTree(tree, out, { mtimes: true });
  assert.ok(files > 10);

  assert.equal(runOk('fatlabel', [img]).stdout.trim(), options.label.toUpperCase());
  const fat1 = readFile(img, g.fatOffset, g.fatBytes);
  const fat2 = readFile(img, g.fatOffset + g.fatBytes, g.fatBytes);
  assert.ok(Buffer.compare(fat1, fat2) === 0, 'the two FATs are identical');
}

test('a FAT16 ESP with long names, aliases, deep and big directories and edge-sized files passes fsck.fat and reads back identically', () => {
  const host = tempDir('fat-host');
  try {
    const tree = sampleTree({ hostDir: host.path, big: true });
    roundTrip(tree, { sizeBytes: 64 * MiB, label: 'ESP', volumeId: 0x1234abcd }, 16).remove();
    // The nixpkgs default ESP size.
    roundTrip(tree, { sizeBytes: 249 * MiB, label: 'ESP', volumeId: 1 }, 16).remove();
  } finally {
    host.remove();
  }
});

test('a FAT32 volume keeps FSInfo exact and its boot sector backup identical, and reads back identically', () => {
  const host = tempDir('fat-host');
  try {
    const tree = sampleTree({ hostDir: host.path, big: true });
    const options = { sizeBytes: 600 * MiB, label: 'NIXOS_BOOT', volumeId: 0xdeadbeef };
    const t = roundTrip(tree, options, 32);
    try {
      const img = join(t.path, 'esp.img');
      const g = computeFatGeometry(options.sizeBytes);
      const reserved = readFile(img, 0, 8 * 512);
      assert.deepEqual(reserved.subarray(6 * 512, 7 * 512), reserved.subarray(0, 512), 'backup boot sector');
      assert.deepEqual(reserved.subarray(7 * 512, 8 * 512), reserved.subarray(512, 1024), 'backup FSInfo');
      const boot = BOOT_SECTOR_32.decode(reserved);
      assert.equal(boot.rootCluster, 2);
      assert.equal(boot.fsInfoSector, 1);
      assert.equal(boot.backupBootSector, 6);
      const info = FSINFO.decode(reserved, 512);
      const used = fatContentBytes(tree, options) / g.clusterBytes;
      assert.equal(info.freeCount, g.clusterCount - used);
      assert.equal(info.nextFree, 2 + used);
    } finally {
      t.remove();
    }
  } finally {
    host.remove();
  }
});

test('a FAT12 floppy-sized volume holds a small ESP and reads back identically', () => {
  const host = tempDir('fat-host');
  try {
    const tree = sampleTree({ hostDir: host.path, big: false });
    roundTrip(tree, { sizeBytes: 2880 * KiB, label: 'efiboot', volumeId: 7 }, 12).remove();
    roundTrip(tree, { sizeBytes: 16 * MiB, label: 'ESP', volumeId: 7, fatType: 12 }, 12).remove();
  } finally {
    host.remove();
  }
});

test('mdir lists the long names next to their aliases, with mtools geometry checks enabled', () => {
  const host = tempDir('fat-host');
  const t = tempDir('fat-mdir');
  try {
    const img = join(t.path, 'esp.img');
    writeImage(buildFat(sampleTree({ hostDir: host.path, big: false }), { sizeBytes: 100 * MiB, label: 'ESP', volumeId: 0x2a }), img);
    const env = { ...MTOOLS_ENV };
    delete env['MTOOLS_SKIP_CHECK'];
    const root = runOk('mdir', ['-i', img, '::/'], { env }).stdout;
    const listing = Buffer.from(root, 'latin1').toString('utf8');
    assert.match(listing, /Volume in drive : is ESP/);
    assert.match(listing, /Volume Serial Number is 0000-002A/);
    assert.match(listing, /^SOMELO~2 TXT\s+10 .* Some Long Name 1\.txt$/m);
    assert.match(listing, /^SOMELO~4 TXT\s+11 .* Some Long Name 2\.txt$/m);
    assert.match(listing, /^SOMELO~1 TXT\s+12 /m);
    assert.match(listing, /^somelo~3 txt\s+13 /m);
    assert.match(listing, /^README\s+MD\s+14 .* Readme\.md$/m);
    assert.match(listing, /^readme\s+txt\s+15 /m);
    assert.match(listing, /^README\s+TOO\s+16 /m);
    assert.match(listing, /^AFILEW~1 TXT\s+1 .* A file with a rather long name that spans several long-name entries, 80 chars\.txt$/m);
    assert.match(listing, / Ünïcødé файл\.txt$/m);
    const deep = runOk('mdir', ['-i', img, '::/deep/level 1/level 2'], { env }).stdout;
    assert.match(deep, /^LEVEL3~1\s+<DIR>.* level 3$/m);
  } finally {
    t.remove();
    host.remove();
  }
});

test('the same tree and options give identical bytes, whatever the insertion order', () => {
  const host = tempDir('fat-host');
  try {
    const options = { sizeBytes: 64 * MiB, label: 'ESP', volumeId: 99 };
    const a = sha256(buildFat(sampleTree({ hostDir: host.path, big: true }), options));
    const b = sha256(buildFat(sampleTree({ hostDir: host.path, big: true, reversed: true }), options));
    const c = sha256(buildFat(sampleTree({ hostDir: host.path, big: true }), { ...options, volumeId: 100 }));
    assert.equal(a, b);
    assert.notEqual(a, c);
  } finally {
    host.remove();
  }
});

test('a volume inside a partition records its start in hidden sectors and reads back at that offset', () => {
  const host = tempDir('fat-host');
  const t = tempDir('fat-part');
  try {
    const tree = sampleTree({ hostDir: host.path, big: false });
    for (const sizeBytes of [32 * MiB, 600 * MiB]) {
      const volume = buildFat(tree, { sizeBytes, label: 'ESP', volumeId: 5, hiddenSectors: 2048 });
      const disk = composeImage(sizeBytes + 2 * MiB, [{ offset: 2048 * 512, image: volume }]);
      const img = join(t.path, 'disk.img');
      writeImage(disk, img);
      const boot = BOOT_SECTOR_16.decode(readFile(img, 2048 * 512, 512));
      assert.equal(boot.hiddenSectors, 2048);
      const out = join(t.path, `out-${sizeBytes}`);
      mkdirSync(out);
      extractAll(img, out, 2048 * 512);
      compareWithTree(tree, out, { mtimes: true });
      const env = { ...MTOOLS_ENV };
      delete env['MTOOLS_SKIP_CHECK'];
      assert.match(runOk('mdir', ['-i', `${img}@@${2048 * 512}`, '::/'], { env }).stdout, /Volume in drive : is ESP/);
      // fsck.fat has no offset option: check the volume on its own.
      const alone = join(t.path, 'volume.img');
      writeImage(volume, alone);
      fsckClean(alone);
    }
  } finally {
    t.remove();
    host.remove();
  }
});

test('a tree larger than the volume fails with fat.too-small, naming needed and available bytes', () => {
  const tree = dir(META, [['big.bin', fileFromBytes(META, new Uint8Array(3 * MiB))]]);
  const options = { sizeBytes: 2880 * KiB, label: 'ESP', volumeId: 1 };
  const g = computeFatGeometry(options.sizeBytes);
  const needed = 3 * MiB;
  assert.equal(fatContentBytes(tree, options), needed);
  assert.throws(() => buildFat(tree, options), (error: unknown) => {
    assert.ok(error instanceof ImageError);
    assert.equal(error.code, 'fat.too-small');
    assert.match(error.message, new RegExp(`needs ${needed} bytes of clusters, the volume has ${g.clusterCount * g.clusterBytes}`));
    return true;
  });
  // Exactly full is fine.
  const exact = dir(META, [['fill.bin', fileFromBytes(META, new Uint8Array(g.clusterCount * g.clusterBytes))]]);
  const t = tempDir('fat-full');
  try {
    const img = join(t.path, 'full.img');
    writeImage(buildFat(exact, options), img);
    const fsck = fsckClean(img);
    assert.equal(fsck.usedClusters, fsck.dataClusters);
  } finally {
    t.remove();
  }
});

test('a symlink fails with an error naming its path', () => {
  const tree = dir(META, [['EFI', dir(META, [['link', symlink(META, '/nix/store/x')]])]]);
  assert.throws(() => buildFat(tree, { sizeBytes: 32 * MiB, label: 'ESP', volumeId: 1 }), {
    name: 'ImageError', code: 'fat.symlink', message: /"\/EFI\/link"/,
  });
});

test('names FAT cannot tell apart or hold are refused', () => {
  const options = { sizeBytes: 32 * MiB, label: 'ESP', volumeId: 1 };
  assert.throws(() => buildFat(dir(META, [['EFI', dir(META, [['a.efi', fileFromBytes(META, 'x')], ['A.EFI', fileFromBytes(META, 'y')]])]]), options), {
    code: 'fat.name-collision', message: /"\/EFI\/A\.EFI" and "\/EFI\/a\.efi"|"\/EFI\/a\.efi" and "\/EFI\/A\.EFI"/,
  });
  assert.throws(() => buildFat(dir(META, [['what?', fileFromBytes(META, 'x')]]), options), { code: 'fat.name-invalid', message: /"\/what\?"/ });
});

test('a file of 4 GiB and a directory past 65,536 entries are refused with one line naming them', () => {
  const options = { sizeBytes: 64 * MiB, label: 'ESP', volumeId: 1, fatType: 32 as const };
  const huge: FileNode = { kind: 'file', ...META, size: 2 ** 32, content: { kind: 'host', path: '/nonexistent/kernel' } };
  assert.throws(() => buildFat(dir(META, [['EFI', dir(META, [['kernel', huge]])]]), options), {
    code: 'fat.file-too-large', message: 'Cannot store "/EFI/kernel" on FAT: it is 4294967296 bytes, and FAT files end at 4294967295',
  });
  const crowded = dir(META, Array.from({ length: 65_535 }, (_, i): [string, TreeNode] => [`F${i}`, fileFromBytes(META, '')]));
  assert.throws(() => buildFat(dir(META, [['crowded', crowded]]), options), {
    code: 'fat.directory-too-large', message: 'Cannot store directory "/crowded" on FAT: it needs 65537 entries, more than the 65536 a FAT directory holds',
  });
});

test('the FAT16 root directory holds its 512 slots, label included, and refuses more', () => {
  const files = (n: number): DirNode => dir(META, Array.from({ length: n }, (_, i): [string, TreeNode] => [`F${i}`, fileFromBytes(META, `${i}`)]));
  const options = { sizeBytes: 32 * MiB, label: 'ESP', volumeId: 1 };
  const t = tempDir('fat-root');
  try {
    const img = join(t.path, 'root.img');
    writeImage(buildFat(files(511), options), img);
    // fsck.fat counts the volume label entry as a file.
    assert.equal(fsckClean(img).files, 512);
  } finally {
    t.remove();
  }
  assert.throws(() => buildFat(files(512), options), { code: 'fat.root-full', message: /needs 513 entries, but the root holds 512/ });
  // Without a label there is room for one more; FAT32 has no such limit.
  buildFat(files(512), { ...options, label: '' });
  buildFat(files(5000), { ...options, fatType: 32 });
});

test('host files become file segments and are not read while building', () => {
  const missing: FileNode = { kind: 'file', ...META, size: 10 * MiB, content: { kind: 'host', path: '/nonexistent/bootx64.efi' } };
  const image = buildFat(dir(META, [['BOOTX64.EFI', missing]]), { sizeBytes: 64 * MiB, label: 'ESP', volumeId: 1 });
  const fileSegments = [...image.segments()].filter((s: Segment) => s.source.kind === 'file');
  assert.equal(fileSegments.length, 1);
  assert.equal(fileSegments[0]!.length, 10 * MiB);
  const g = computeFatGeometry(64 * MiB);
  // Root directory (no clusters on FAT16), so the file starts at the first data cluster.
  assert.equal(fileSegments[0]!.offset, g.dataOffset);
  assert.throws(() => [...readWindows(image, 1 << 16)], { code: 'input.unreadable' });
  // Only metadata is held in memory.
  const inMemory = [...image.segments()].filter((s) => s.source.kind === 'bytes').reduce((n, s) => n + s.length, 0);
  assert.ok(inMemory <= 512, `${inMemory} bytes of metadata held as bytes`);
});

test('timestamps are the mtimes read as UTC, clamped to 1980..2107', () => {
  const tree = dir(at(0), [
    ['OLD', fileFromBytes(at(-1000), 'o')],
    ['NEW', fileFromBytes(at(2 ** 40), 'n')],
    ['NOW', fileFromBytes(at(Date.UTC(2024, 1, 29, 13, 45, 31) / 1000), 'x')],
  ]);
  const image = buildFat(tree, { sizeBytes: 32 * MiB, label: 'ESP', volumeId: 1 });
  const g = computeFatGeometry(32 * MiB);
  const root = readImageRange(image, g.rootDirOffset, 4 * 32);
  const [label, neu, now, old] = [0, 1, 2, 3].map((i) => DIR_ENTRY.decode(root, i * 32));
  assert.equal(label!.attributes, 0x08);
  assert.equal(label!.writeDate, (0 << 9) | (1 << 5) | 1, 'the label carries the root time, clamped');
  assert.equal(old!.writeDate, (0 << 9) | (1 << 5) | 1);
  assert.equal(old!.writeTime, 0);
  assert.equal(neu!.writeDate, (127 << 9) | (12 << 5) | 31);
  assert.equal(neu!.writeTime, (23 << 11) | (59 << 5) | 29);
  assert.equal(now!.writeDate, (44 << 9) | (2 << 5) | 29);
  assert.equal(now!.writeTime, (13 << 11) | (45 << 5) | 15);
  assert.equal(now!.createTimeFine, 100);
});

test('names outside the Basic Multilingual Plane are stored as UTF-16 surrogate pairs', () => {
  const name = '😀 smile.txt';
  const tree = dir(META, [[treeName(name), fileFromBytes(META, 'e')]]);
  const image = buildFat(tree, { sizeBytes: 32 * MiB, label: '', volumeId: 1 });
  const g = computeFatGeometry(32 * MiB);
  const root = readImageRange(image, g.rootDirOffset, 2 * 32);
  const lfn = LFN_ENTRY.decode(root, 0);
  assert.equal(lfn.order, 0x41);
  const units = [...lfn.name1, ...lfn.name2, ...lfn.name3];
  const text = String.fromCharCode(...Array.from({ length: name.length }, (_, i) => units[2 * i]! | (units[2 * i + 1]! << 8)));
  assert.equal(text, name);
  const t = tempDir('fat-emoji');
  try {
    const img = join(t.path, 'e.img');
    writeImage(image, img);
    fsckClean(img);
  } finally {
    t.remove();
  }
});

test('labels are upper-cased, checked, and may be empty', () => {
  const t = tempDir('fat-label');
  try {
    const img = join(t.path, 'l.img');
    writeImage(buildFat(dir(META), { sizeBytes: 32 * MiB, label: 'my esp', volumeId: 1 }), img);
    fsckClean(img);
    assert.equal(runOk('fatlabel', [img]).stdout.trim(), 'MY ESP');
    writeImage(buildFat(dir(META), { sizeBytes: 32 * MiB, label: '', volumeId: 1 }), img);
    fsckClean(img);
    assert.equal(Buffer.from(BOOT_SECTOR_16.decode(readFile(img, 0, 512)).volumeLabel).toString('latin1'), 'NO NAME    ');
    const listing = run('mdir', ['-i', img, '::/'], { env: MTOOLS_ENV }).stdout;
    assert.match(listing, /has no label/);
  } finally {
    t.remove();
  }
  for (const label of ['TWELVE CHARS', 'A.B', 'a:b', ' ESP', 'ÉSP']) {
    assert.throws(() => buildFat(dir(META), { sizeBytes: 32 * MiB, label, volumeId: 1 }), { code: 'fat.label-invalid' }, label);
  }
});
