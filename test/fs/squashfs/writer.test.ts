import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError, UsageError } from '../../../src/core/errors.js';
import { OutputFile } from '../../../src/core/output-file.js';
import { writeSquashfs } from '../../../src/fs/squashfs/index.js';
import { dir, fileFromBytes, lazyHostTree, symlink, type DirNode, type FileNode, type NodeMeta } from '../../../src/fs/tree.js';
import { run, runOk, tempDir } from '../../helpers/run.js';
import { makeTortureTree, snapshotTree } from '../../helpers/tree.js';
import { EPOCH, EPOCH_LISTED, extract, listImage, noise, prose, sha256File, superblockFacts, writeImage } from './squashfs-tools.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const ROOT: NodeMeta = { permissions: 0o755, uid: 0, gid: 0, mtime: 0 };
const FILE: NodeMeta = { permissions: 0o644, uid: 0, gid: 0, mtime: 0 };

/** The torture tree plus the block-size edge cases and three copies of one file. */
function makeSource(root: string, bigDirEntries: number): void {
  makeTortureTree(root, { sparseBytes: 0, bigDirEntries });
  writeFileSync(join(root, 'exactly-one-block'), noise(128 * KiB, 1));
  writeFileSync(join(root, 'one-block-and-a-byte'), noise(128 * KiB + 1, 2));
  mkdirSync(join(root, 'copies'));
  for (const name of ['first', 'second', 'third']) writeFileSync(join(root, 'copies', name), noise(MiB + 7, 3));
}

function hostRoot(path: string): DirNode {
  return lazyHostTree(path, { maxTime: EPOCH, uid: 0, gid: 0 }) as DirNode;
}

/** Modes as ls and unsquashfs print them. */
function modeString(path: string): string {
  const st = lstatSync(path);
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-';
  const bits = st.mode & 0o7777;
  const triple = (shift: number, special: number, letter: string): string => {
    const r = bits & (4 << shift) ? 'r' : '-';
    const w = bits & (2 << shift) ? 'w' : '-';
    const x = bits & (1 << shift);
    const s = bits & special;
    return r + w + (s ? (x ? letter : letter.toUpperCase()) : x ? 'x' : '-');
  };
  return type + triple(6, 0o4000, 's') + triple(3, 0o2000, 's') + triple(0, 0o1000, 't');
}

function checkListing(image: string, source: string, expected = snapshotTree(source)): void {
  const listed = listImage(image);
  assert.deepEqual([...listed.keys()].sort(), [...expected.keys()].sort());
  for (const [path, entry] of expected) {
    const got = listed.get(path)!;
    assert.equal(got.mode, modeString(path === '' ? source : join(source, path)), path);
    assert.equal(got.owner, '0/0', path);
    assert.equal(got.time, EPOCH_LISTED, path);
    if (entry.type !== 'dir') assert.equal(got.size, entry.size, path);
    if (entry.type === 'symlink') assert.equal(got.target, entry.content, path);
  }
}

test('zstd: the torture tree with a 5 GiB sparse file lists, extracts byte for byte, keeps hard links and stores copies once', async () => {
  const work = tempDir('squashfs-zstd');
  try {
    const source = join(work.path, 'source');
    makeSource(source, 10000);
    // Snapshot before the sparse file joins, so that 5 GiB of zeros are not hashed.
    const snapshot = snapshotTree(source);
    const sparse = join(source, 'sparse');
    const fd = openSync(sparse, 'w');
    ftruncateSync(fd, 5 * GiB);
    writeSync(fd, Buffer.from('data in the middle'), 0, 18, 2 * GiB + 5);
    writeSync(fd, Buffer.from('data near the end'), 0, 17, 5 * GiB - 4096);
    closeSync(fd);

    const image = join(work.path, 'store.squashfs');
    const began = Date.now();
    const { bytes, inodes } = await writeImage(hostRoot(source), image);
    const seconds = (Date.now() - began) / 1000;
    assert.equal(statSync(image).size, bytes);
    assert.equal(bytes % 4096, 0);

    const facts = superblockFacts(image);
    assert.match(facts, /Compression zstd\n\tcompression-level 19\n/);
    assert.match(facts, /Block size 131072\n/);
    assert.match(facts, new RegExp(`Number of inodes ${inodes}\n`));
    assert.match(facts, /Duplicates are removed/);
    assert.match(facts, /Number of ids 1\n/);
    // Every entry is an inode, except the two extra names of the hard-linked file.
    assert.equal(inodes, snapshot.size + 1 - 2);

    // The sparse file cost almost nothing: 5 GiB of holes, two pieces of data.
    assert.ok(bytes < 8 * MiB, `image of ${bytes} bytes`);
    assert.ok(seconds < 240, `took ${seconds} s`);

    checkListing(image, source, new Map([...snapshot, ['sparse', { type: 'file', mode: 0o644, size: 5 * GiB, content: '' }]]));
    const extracted = join(work.path, 'extracted');
    extract(image, extracted);

    const out = join(extracted, 'sparse');
    assert.equal(statSync(out).size, 5 * GiB);
    const probe = (at: number, length: number): string => {
      const buffer = Buffer.alloc(length);
      const handle = openSync(out, 'r');
      try { readSync(handle, buffer, 0, length, at); } finally { closeSync(handle); }
      return buffer.toString('latin1');
    };
    assert.equal(probe(2 * GiB + 5, 18), 'data in the middle');
    assert.equal(probe(5 * GiB - 4096, 17), 'data near the end');
    assert.equal(probe(GiB, 8), '\0'.repeat(8));
    rmSync(out);
    rmSync(sparse);

    assert.deepEqual(snapshotTree(extracted), snapshotTree(source));
    const links = ['a/original', 'a/b/hard-link', 'hard-link-at-top'].map((name) => statSync(join(extracted, name)));
    assert.equal(new Set(links.map((st) => st.ino)).size, 1);
    assert.equal(links[0]!.nlink, 3);
  } finally {
    work.remove();
  }
});

for (const compression of ['gzip', 'xz', 'lz4', 'none'] as const) {
  test(`${compression}: the torture tree lists and extracts byte for byte`, async () => {
    const work = tempDir(`squashfs-${compression}`);
    try {
      const source = join(work.path, 'source');
      makeSource(source, 3000);
      const image = join(work.path, 'store.squashfs');
      const { inodes } = await writeImage(hostRoot(source), image, { compression });
      const facts = superblockFacts(image);
      assert.match(facts, new RegExp(`Compression ${compression === 'none' ? 'gzip' : compression}\n`));
      assert.match(facts, new RegExp(`Number of inodes ${inodes}\n`));
      if (compression === 'none') {
        assert.match(facts, /Data is uncompressed/);
        assert.match(facts, /Inodes are uncompressed/);
      } else {
        assert.match(facts, /Data is compressed/);
      }
      checkListing(image, source);
      const extracted = join(work.path, 'extracted');
      extract(image, extracted);
      assert.deepEqual(snapshotTree(extracted), snapshotTree(source));
    } finally {
      work.remove();
    }
  });
}

test('identical bytes whatever the thread count, run after run', async () => {
  const work = tempDir('squashfs-determinism');
  try {
    const source = join(work.path, 'source');
    makeSource(source, 2000);
    for (const settings of [{ compression: 'zstd', level: 6 }, { compression: 'xz' }] as const) {
      const sums = [];
      for (const threads of [1, 2, 3, undefined]) {
        const image = join(work.path, `store-${settings.compression}-${threads ?? 'default'}.squashfs`);
        await writeImage(hostRoot(source), image, threads === undefined ? settings : { ...settings, threads });
        sums.push(sha256File(image));
      }
      assert.equal(new Set(sums).size, 1, `${settings.compression}: ${sums.join(' ')}`);
    }
  } finally {
    work.remove();
  }
});

test('copies are stored once: three equal files cost what one does, three different ones three times', async () => {
  const work = tempDir('squashfs-dedup');
  try {
    const tree = (seeds: number[]): DirNode => dir(ROOT, seeds.map((seed, i): [string, FileNode] => [`file-${i}`, fileFromBytes(FILE, noise(MiB + 100, seed))]));
    const one = (await writeImage(tree([1]), join(work.path, 'one'))).bytes;
    const copies = (await writeImage(tree([1, 1, 1]), join(work.path, 'copies'))).bytes;
    const different = (await writeImage(tree([1, 2, 3]), join(work.path, 'different'))).bytes;
    assert.ok(copies - one <= 4096, `${copies} vs ${one}`);
    assert.ok(different > 3 * MiB, `${different}`);
    const extracted = join(work.path, 'extracted');
    extract(join(work.path, 'copies'), extracted);
    for (let i = 0; i < 3; i++) assert.equal(sha256File(join(extracted, `file-${i}`)), sha256File(join(extracted, 'file-0')));
  } finally {
    work.remove();
  }
});

test('owners other than root go to the id table; one FileNode under two names is one inode', async () => {
  const work = tempDir('squashfs-owners');
  try {
    const shared = fileFromBytes({ ...FILE, permissions: 0o4755 }, 'shared\n');
    const root = dir(ROOT, [
      ['user-file', fileFromBytes({ ...FILE, uid: 1000, gid: 100 }, 'mine\n')],
      ['one', shared],
      ['two', shared],
      ['link', symlink({ ...FILE, permissions: 0o777 }, 'one')],
      ['n'.repeat(255), fileFromBytes(FILE, 'long name\n')],
    ]);
    const image = join(work.path, 'image');
    const { inodes } = await writeImage(root, image, { compression: 'gzip' });
    assert.equal(inodes, 5);
    assert.match(superblockFacts(image), /Number of ids 3\n/);
    const listed = listImage(image);
    assert.equal(listed.get('user-file')!.owner, '1000/100');
    assert.equal(listed.get('one')!.mode, '-rwsr-xr-x');
    assert.equal(listed.get('link')!.target, 'one');
    const extracted = join(work.path, 'extracted');
    extract(image, extracted);
    assert.equal(statSync(join(extracted, 'one')).ino, statSync(join(extracted, 'two')).ino);
    assert.equal(statSync(join(extracted, 'one')).nlink, 2);
  } finally {
    work.remove();
  }
});

test('written at a position inside a larger file, leaving the bytes before it alone', async () => {
  const work = tempDir('squashfs-offset');
  try {
    const root = dir(ROOT, [['hello', fileFromBytes(FILE, prose(300 * KiB, 9))]]);
    const image = join(work.path, 'container');
    const start = 17 * 2048;
    const out = OutputFile.create(image);
    out.writeAt(0, new Uint8Array(start).fill(0xaa));
    const { bytes } = await writeSquashfs(root, out, start, { compression: 'zstd', mtime: EPOCH });
    out.commit();
    assert.equal(statSync(image).size, start + bytes);
    assert.match(superblockFacts(image, start), /Number of inodes 2\n/);
    const extracted = join(work.path, 'extracted');
    extract(image, extracted, start);
    assert.deepEqual(new Uint8Array(readFileSync(join(extracted, 'hello'))), prose(300 * KiB, 9));
  } finally {
    work.remove();
  }
});

test('within 2% of mksquashfs for the same tree, level and block size', async () => {
  const work = tempDir('squashfs-size');
  try {
    const source = join(work.path, 'source');
    for (let d = 0; d < 6; d++) {
      mkdirSync(join(source, `dir-${d}`), { recursive: true });
      for (let f = 0; f < 25; f++) {
        const seed = d * 100 + f;
        const size = [60, 900, 5000, 40 * KiB, 200 * KiB][f % 5]! + seed * 13;
        writeFileSync(join(source, `dir-${d}`, `file-${f}`), prose(size, seed));
      }
    }
    for (const [compression, flags] of [['zstd', ['-comp', 'zstd', '-Xcompression-level', '19']], ['gzip', ['-comp', 'gzip']]] as const) {
      const ours = join(work.path, `ours-${compression}`);
      const theirs = join(work.path, `theirs-${compression}`);
      const { bytes } = await writeImage(hostRoot(source), ours, { compression });
      runOk('mksquashfs', [source, theirs, ...flags, '-b', '131072', '-all-root', '-noappend', '-no-progress', '-quiet'], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
      const reference = statSync(theirs).size;
      assert.ok(bytes <= reference * 1.02, `${compression}: ours ${bytes}, mksquashfs ${reference}`);
      assert.ok(bytes >= reference * 0.8, `${compression}: ours ${bytes} is suspiciously small against mksquashfs ${reference}`);
    }
  } finally {
    work.remove();
  }
});

test('zstd 19: blocks no compressor shrinks are stored raw, and nothing compressible is lost against mksquashfs', async () => {
  const work = tempDir('squashfs-raw-blocks');
  try {
    const source = join(work.path, 'source');
    mkdirSync(source);
    writeFileSync(join(source, 'random'), noise(4 * MiB, 21));
    // Mostly random with one repeat per block: level 1 finds the repeat, so level 19 runs.
    const mixed = Buffer.from(noise(2 * MiB, 22));
    for (let at = 0; at < mixed.length; at += 128 * KiB) mixed.copy(mixed, at + 64 * KiB, at, at + 8 * KiB);
    writeFileSync(join(source, 'mostly-random'), mixed);
    writeFileSync(join(source, 'text'), prose(MiB, 23));
    const ours = join(work.path, 'ours');
    const theirs = join(work.path, 'theirs');
    const { bytes } = await writeImage(hostRoot(source), ours, { compression: 'zstd', level: 19 });
    runOk('mksquashfs', [source, theirs, '-comp', 'zstd', '-Xcompression-level', '19', '-b', '131072', '-all-root', '-noappend', '-no-progress', '-quiet'], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
    const reference = statSync(theirs).size;
    assert.ok(Math.abs(bytes - reference) <= reference * 0.002, `ours ${bytes}, mksquashfs ${reference}`);
    assert.ok(bytes > 5.5 * MiB && bytes < 6 * MiB + 512 * KiB, `${bytes}: the random bytes are stored, the text compressed`);
    const extracted = join(work.path, 'extracted');
    extract(ours, extracted);
    for (const name of ['random', 'mostly-random', 'text']) assert.equal(sha256File(join(extracted, name)), sha256File(join(source, name)), name);
  } finally {
    work.remove();
  }
});

test('xz: the dictionary is the block size unless set (also 4 KiB, below what -Xdict-size takes), and a set one is stored as mksquashfs stores it', async () => {
  const work = tempDir('squashfs-xz');
  try {
    const source = join(work.path, 'source');
    mkdirSync(source);
    writeFileSync(join(source, 'text'), prose(3 * MiB, 31));
    writeFileSync(join(source, 'random'), noise(300 * KiB, 32));
    for (const [name, dictionarySize, listed, blockSize] of [['default', undefined, undefined, 128 * KiB], ['half', 64 * KiB, 65536, 128 * KiB], ['4k-blocks', undefined, undefined, 4 * KiB]] as const) {
      const image = join(work.path, name);
      const { bytes } = await writeImage(hostRoot(source), image, { compression: 'xz', blockSize, ...(dictionarySize === undefined ? {} : { dictionarySize }) });
      const facts = superblockFacts(image);
      assert.match(facts, /Compression xz\n/);
      if (listed === undefined) assert.doesNotMatch(facts, /Dictionary size/);
      else assert.match(facts, new RegExp(`Dictionary size ${listed}\\n`));
      const extracted = join(work.path, `${name}-extracted`);
      extract(image, extracted);
      for (const file of ['text', 'random']) assert.equal(sha256File(join(extracted, file)), sha256File(join(source, file)), `${name}: ${file}`);
      const theirs = join(work.path, `${name}-mksquashfs`);
      runOk('mksquashfs', [source, theirs, '-comp', 'xz', ...(dictionarySize === undefined ? [] : ['-Xdict-size', String(dictionarySize)]), '-b', String(blockSize), '-all-root', '-noappend', '-no-progress', '-quiet'],
        { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
      const reference = statSync(theirs).size;
      assert.ok(Math.abs(bytes - reference) <= reference * 0.01, `${name}: ours ${bytes}, mksquashfs ${reference}`);
    }
  } finally {
    work.remove();
  }
});

test('negative controls: unsquashfs rejects a damaged data block and a damaged superblock', async () => {
  const work = tempDir('squashfs-corrupt');
  try {
    const root = dir(ROOT, [['data', fileFromBytes(FILE, prose(512 * KiB, 4))]]);
    const image = join(work.path, 'image');
    await writeImage(root, image);
    extract(image, join(work.path, 'good'));
    // The first data block's zstd frame header: right after the superblock (96 bytes) and
    // the compressor options (2 + 4 bytes, level 19).
    const fd = openSync(image, 'r+');
    writeSync(fd, new Uint8Array(16).fill(0x5a), 0, 16, 102);
    closeSync(fd);
    assert.notEqual(run('unsquashfs', ['-no-xattrs', '-st', '-d', join(work.path, 'bad'), image]).status, 0);
    const fd2 = openSync(image, 'r+');
    writeSync(fd2, Buffer.from('xxxx'), 0, 4, 0);
    closeSync(fd2);
    assert.notEqual(run('unsquashfs', ['-s', image]).status, 0);
  } finally {
    work.remove();
  }
});

test('bad input fails with one clear line', async () => {
  const work = tempDir('squashfs-bad');
  try {
    const image = join(work.path, 'image');
    const longName = dir(ROOT, [['x'.repeat(256), fileFromBytes(FILE, 'x')]]);
    await assert.rejects(writeImage(longName, image), (error: unknown) => error instanceof ImageError
      && error.code === 'squashfs.name-too-long' && /256 bytes, at most 255/.test(error.message));
    const missing: FileNode = { kind: 'file', ...FILE, size: 10, content: { kind: 'host', path: join(work.path, 'gone') } };
    await assert.rejects(writeImage(dir(ROOT, [['gone', missing]]), image), (error: unknown) => error instanceof ImageError
      && error.code === 'input.unreadable' && error.message.includes(join(work.path, 'gone')) && error.message.includes('it is gone'));
    await assert.rejects(writeImage(dir(ROOT), image, { blockSize: 3000 }), (error: unknown) => error instanceof UsageError
      && /block size 3000: expected a power of two/.test(error.message));
    await assert.rejects(writeImage(dir(ROOT), image, { compression: 'lzo' as 'xz' }), (error: unknown) => error instanceof UsageError
      && /"lzo" compression: supported are zstd, gzip, xz, lz4 and none/.test(error.message));
    await assert.rejects(writeImage(dir(ROOT), image, { compression: 'xz', dictionarySize: 100_000 }), (error: unknown) => error instanceof UsageError
      && /xz dictionary size 100000: expected 2\^n or 3 \* 2\^n bytes from 8192 to the block size 131072/.test(error.message));
    await assert.rejects(writeImage(dir(ROOT), image, { compression: 'xz', level: 9 }), (error: unknown) => error instanceof UsageError
      && /level 9 with xz/.test(error.message));
    await assert.rejects(writeImage(dir(ROOT), image, { level: 30 }), (error: unknown) => error instanceof UsageError);
  } finally {
    work.remove();
  }
});
