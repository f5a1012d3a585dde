import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExt4, ext4MinimumBytes, Ext4TooSmallError } from '../../../src/fs/ext4/index.js';
import { dir, fileFromBytes, lazyHostTree, scanHostTree, type DirNode, type TreeNode } from '../../../src/fs/tree.js';
import { writeRaw } from '../../../src/container/raw.js';
import { readAll, type BlockImage } from '../../../src/core/block-image.js';
import { writeTo } from '../../helpers/output.js';
import { run, runOk, tempDir } from '../../helpers/run.js';
import { makeTortureTree, snapshotTree } from '../../helpers/tree.js';
import { assertFsckClean } from './e2fs-checks.js';

const UUID = 'F222513B-DED1-49FA-B591-20CE86A2FE7F';

async function writeImage(image: BlockImage, path: string): Promise<void> {
  await writeTo(path, (out) => writeRaw(image, out));
}

function hostTree(path: string): DirNode {
  const tree = scanHostTree(path, { maxTime: 1, uid: 0, gid: 0 });
  assert.equal(tree.kind, 'dir');
  return tree as DirNode;
}

/** Modes, owners and inode numbers of every entry, listed with one debugfs run. */
function debugfsListing(image: string, dirs: string[]): Map<string, { ino: number; mode: number; uid: number; gid: number }> {
  const commands = dirs.map((d) => `ls -p ${d === '' ? '/' : `"/${d}"`}`).join('\n');
  const cmdFile = `${image}.cmds`;
  writeFileSync(cmdFile, `${commands}\n`);
  const out = runOk('debugfs', ['-f', cmdFile, image]).stdout;
  const result = new Map<string, { ino: number; mode: number; uid: number; gid: number }>();
  let current = '';
  for (const line of out.split('\n')) {
    const header = /^debugfs: ls -p (.*)$/.exec(line);
    if (header !== null) {
      current = header[1]!.replace(/^"?\/?/, '').replace(/"$/, '');
      continue;
    }
    // /ino/mode/uid/gid/name/size/
    const m = /^\/(\d+)\/(\d+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
    if (m === null) continue;
    const name = Buffer.from(m[5]!, 'latin1').toString('utf8');
    if (name === '.' || name === '..') continue;
    result.set(current === '' ? name : `${current}/${name}`, { ino: Number(m[1]), mode: parseInt(m[2]!, 8), uid: Number(m[3]), gid: Number(m[4]) });
  }
  return result;
}

test('ext4 of a torture tree passes e2fsck and debugfs rdump gives the tree back', async () => {
  const tmp = tempDir('ext4');
  try {
    const src = join(tmp.path, 'src');
    makeTortureTree(src, { sparseBytes: 2.5 * 2 ** 30 });
    const fs = buildExt4(hostTree(src), { label: 'nixos', uuid: UUID, epoch: 1, headroomBytes: 64 << 20 });
    const image = join(tmp.path, 'fs.img');
    await writeImage(fs.image, image);
    assert.equal(statSync(image).size, fs.sizeBytes);
    assertFsckClean(image);

    const header = runOk('dumpe2fs', ['-h', image]).stdout;
    assert.match(header, /Filesystem volume name:\s+nixos\n/);
    assert.match(header, /Filesystem UUID:\s+f222513b-ded1-49fa-b591-20ce86a2fe7f/);
    assert.match(header, /Filesystem features:\s+has_journal ext_attr dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum\n/);
    assert.match(header, /Checksum type:\s+crc32c/);
    assert.match(header, /Filesystem state:\s+clean/);
    assert.match(header, /Inode size:\s+256/);
    assert.match(header, /Block size:\s+4096/);

    const restored = join(tmp.path, 'restored');
    runOk('mkdir', [restored]);
    runOk('debugfs', ['-R', `rdump / ${restored}`, image]);
    const expected = snapshotTree(src);
    const actual = snapshotTree(restored);
    actual.delete('lost+found');
    // rdump applies only the permission bits it can; modes are checked through debugfs below.
    const strip = (m: Map<string, { type: string; size: number; content: string }>) =>
      [...m].filter(([k]) => k !== '').map(([k, v]) => [k, v.type, v.size, v.content].join(' '));
    assert.deepEqual(strip(actual), strip(expected));

    const dirs = [...expected].filter(([, v]) => v.type === 'dir').map(([k]) => k);
    const listing = debugfsListing(image, dirs);
    for (const [path, entry] of expected) {
      if (path === '') continue;
      const got = listing.get(path);
      assert.ok(got !== undefined, `${path} is listed`);
      assert.equal(got.mode & 0o7777, entry.mode, `mode of ${path}`);
      assert.equal(got.uid, 0);
      assert.equal(got.gid, 0);
    }
    const ino = (p: string): number => listing.get(p)!.ino;
    assert.equal(ino('a/original'), ino('a/b/hard-link'));
    assert.equal(ino('a/original'), ino('hard-link-at-top'));
    assert.match(runOk('debugfs', ['-R', 'stat /a/original', image]).stdout, /Links: 3/);
  } finally {
    tmp.remove();
  }
});

test('ext4 grows with resize2fs as autoResize does at first boot', async () => {
  const tmp = tempDir('ext4-resize');
  try {
    const src = join(tmp.path, 'src');
    makeTortureTree(src, { bigDirEntries: 500 });
    const fs = buildExt4(hostTree(src), { label: 'nixos', uuid: UUID, epoch: 1 });
    const image = join(tmp.path, 'fs.img');
    await writeImage(fs.image, image);
    for (const size of ['3G', '40G']) {
      truncateSync(image, size === '3G' ? 3 * 2 ** 30 : 40 * 2 ** 30);
      runOk('resize2fs', [image]);
      assertFsckClean(image);
    }
    const restored = join(tmp.path, 'restored');
    runOk('mkdir', [restored]);
    runOk('debugfs', ['-R', `rdump /a ${restored}`, image]);
    assert.equal(readFileSync(join(restored, 'a/original'), 'utf8'), 'linked content\n');
  } finally {
    tmp.remove();
  }
});

test('ext4 output is deterministic and independent of host timestamps', async () => {
  const tmp = tempDir('ext4-det');
  try {
    const src = join(tmp.path, 'src');
    makeTortureTree(src, { bigDirEntries: 300 });
    const hashes: string[] = [];
    for (const name of ['one.img', 'two.img']) {
      const fs = buildExt4(hostTree(src), { label: 'nixos', uuid: UUID, epoch: 1 });
      const image = join(tmp.path, name);
      await writeImage(fs.image, image);
      hashes.push(createHash('sha256').update(readFileSync(image)).digest('hex'));
      runOk('touch', [join(src, 'empty')]);
    }
    assert.equal(hashes[0], hashes[1]);
  } finally {
    tmp.remove();
  }
});

test('an explicit size too small fails before writing, naming the size needed', () => {
  const tmp = tempDir('ext4-small');
  try {
    const src = join(tmp.path, 'src');
    makeTortureTree(src, { bigDirEntries: 100 });
    const tree = hostTree(src);
    const minimum = ext4MinimumBytes(tree, 1, UUID);
    assert.throws(() => buildExt4(tree, { label: 'nixos', uuid: UUID, epoch: 1, sizeBytes: 4 << 20 }), (error: unknown) => {
      assert.ok(error instanceof Ext4TooSmallError);
      assert.equal(error.neededBytes, minimum);
      assert.match(error.message, new RegExp(`needs at least ${minimum} bytes`));
      return true;
    });
    const fits = buildExt4(tree, { label: 'nixos', uuid: UUID, epoch: 1, sizeBytes: minimum });
    assert.equal(fits.sizeBytes, minimum);
  } finally {
    tmp.remove();
  }
});

test('auto size leaves the requested headroom free for unprivileged users', async () => {
  const tmp = tempDir('ext4-headroom');
  try {
    const tree = dir({ permissions: 0o755, uid: 0, gid: 0, mtime: 1 });
    const fs = buildExt4(tree, { label: 'nixos', uuid: UUID, epoch: 1, headroomBytes: 100 << 20 });
    const image = join(tmp.path, 'fs.img');
    await writeImage(fs.image, image);
    const header = runOk('dumpe2fs', ['-h', image]).stdout;
    const value = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(header)![1]);
    const availableForUsers = (value('Free blocks') - value('Reserved block count')) * 4096;
    assert.ok(availableForUsers >= 100 << 20, `${availableForUsers} bytes available`);
    assert.ok(availableForUsers < 110 << 20, `${availableForUsers} bytes available is close to the request`);
  } finally {
    tmp.remove();
  }
});

test('journal superblock and group 0 layout match mke2fs for the same UUID', () => {
  const tmp = tempDir('ext4-mke2fs');
  try {
    const ours = join(tmp.path, 'ours.img');
    const theirs = join(tmp.path, 'theirs.img');
    const fs = buildExt4(dir({ permissions: 0o755, uid: 0, gid: 0, mtime: 1 }), { label: 'nixos', uuid: UUID, epoch: 1, sizeBytes: 200 << 20 });
    const bytes = new Uint8Array(fs.sizeBytes);
    for (const s of fs.image.segments()) {
      if (s.source.kind === 'bytes') bytes.set(s.source.bytes, s.offset);
      else if (s.source.kind === 'lazy') bytes.set(s.source.produce(), s.offset);
    }
    writeFileSync(ours, bytes);
    writeFileSync(theirs, '');
    truncateSync(theirs, 200 << 20);
    runOk('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', '^resize_inode', '-U', UUID, '-L', 'nixos', theirs]);
    const journalBlock = (image: string): Buffer => {
      const block = Number(runOk('debugfs', ['-R', 'bmap <8> 0', image]).stdout.trim());
      return readFileSync(image).subarray(block * 4096, block * 4096 + 1024);
    };
    assert.deepEqual(journalBlock(ours), journalBlock(theirs));
    const features = (image: string): string => /Filesystem features:(.*)/.exec(runOk('dumpe2fs', ['-h', image]).stdout)![1]!;
    assert.equal(features(ours), features(theirs));
  } finally {
    tmp.remove();
  }
});

test('a lazily listed tree gives the same bytes as the same tree held in memory, hard links included', () => {
  const tmp = tempDir('ext4-lazy');
  try {
    const src = join(tmp.path, 'src');
    makeTortureTree(src, { bigDirEntries: 2000 });
    const options = { label: 'nixos', uuid: UUID, epoch: 1 } as const;
    const inMemory = buildExt4(hostTree(src), options);
    const lazy = lazyHostTree(src, { maxTime: 1, uid: 0, gid: 0 });
    assert.equal(lazy.kind, 'dir');
    const listed = buildExt4(lazy as DirNode, options);
    assert.equal(listed.sizeBytes, inMemory.sizeBytes);
    const hash = (image: BlockImage): string => createHash('sha256').update(readAll(image)).digest('hex');
    assert.equal(hash(listed.image), hash(inMemory.image));
  } finally {
    tmp.remove();
  }
});

test('a file that changes between the planning walk and the writing walk is reported', () => {
  const tmp = tempDir('ext4-changed');
  try {
    const src = join(tmp.path, 'src');
    makeTortureTree(src, { bigDirEntries: 10 });
    const fs = buildExt4(lazyHostTree(src, { maxTime: 1, uid: 0, gid: 0 }) as DirNode, { label: 'nixos', uuid: UUID, epoch: 1 });
    writeFileSync(join(src, 'one-block'), Buffer.alloc(3 * 4096, 0x43));
    assert.throws(() => readAll(fs.image), /Cannot copy ".*\/one-block": it had 4096 bytes when listed and has 12288 now/);
  } finally {
    tmp.remove();
  }
});

test('a name added, removed or turned into a directory between the planning walk and the writing walk is reported', () => {
  const changes: [string, (src: string) => void][] = [
    ['added', (src) => writeFileSync(join(src, 'aaa-new'), 'x')],
    ['removed', (src) => rmSync(join(src, 'one-block'))],
    ['turned into a directory', (src) => {
      rmSync(join(src, 'one-block'));
      mkdirSync(join(src, 'one-block'));
    }],
  ];
  for (const [what, change] of changes) {
    const tmp = tempDir('ext4-tree-changed');
    try {
      const src = join(tmp.path, 'src');
      makeTortureTree(src, { bigDirEntries: 10 });
      const fs = buildExt4(lazyHostTree(src, { maxTime: 1, uid: 0, gid: 0 }) as DirNode, { label: 'nixos', uuid: UUID, epoch: 1 });
      change(src);
      assert.throws(() => readAll(fs.image), /the tree changed during the build/, what);
    } finally {
      tmp.remove();
    }
  }
});

test('a directory with more than 65,000 subdirectories (dir_nlink): e2fsck -fn passes and its link count is 1, as ext4 keeps it', async () => {
  const tmp = tempDir('ext4-dirnlink');
  try {
    const meta = { permissions: 0o755, uid: 0, gid: 0, mtime: 1 };
    const many = dir(meta, Array.from({ length: 65_010 }, (_, i) => [`d${String(i).padStart(5, '0')}`, dir(meta)] as [string, DirNode]));
    const root = dir(meta, [['many', many]]);
    const fs = buildExt4(root, { label: 'nixos', uuid: '44444444-4444-4444-8888-888888888888', epoch: 1 });
    const image = join(tmp.path, 'fs.img');
    await writeImage(fs.image, image);
    const fsck = run('e2fsck', ['-fn', image]);
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    assert.match(runOk('debugfs', ['-R', 'stat /many', image]).stdout, /Links: 1\b/);
    assert.match(runOk('dumpe2fs', ['-h', image]).stdout, /Filesystem features:.*dir_nlink/);
    assert.match(runOk('debugfs', ['-R', 'stat /many/d65009', image]).stdout, /Type: directory/);
  } finally {
    tmp.remove();
  }
});

test('a group\'s inode table of several MiB is made 1 MiB at a time, and e2fsck -fn passes', async () => {
  const tmp = tempDir('ext4-inode-chunks');
  try {
    const meta = { permissions: 0o644, uid: 0, gid: 0, mtime: 1 };
    const files = 30_000;
    const root = dir({ ...meta, permissions: 0o755 }, Array.from({ length: files }, (_, i) => [`f${i}`, fileFromBytes(meta, `${i}`)] as [string, TreeNode]));
    const fs = buildExt4(root, { label: 'nixos', uuid: '44444444-4444-4444-8888-888888888888', epoch: 1 });
    const lazy = [...fs.image.segments()].filter((s) => s.source.kind === 'lazy');
    assert.ok(fs.inodes > files);
    assert.ok(lazy.every((s) => s.length <= 1 << 20), `a lazy segment of ${Math.max(...lazy.map((s) => s.length))} bytes`);
    const image = join(tmp.path, 'fs.img');
    await writeImage(fs.image, image);
    assertFsckClean(image);
    assert.match(runOk('debugfs', ['-R', `cat /f${files - 1}`, image]).stdout, new RegExp(`^${files - 1}$`));
  } finally {
    tmp.remove();
  }
});

test('a file of exactly 2^32 bytes (the low word of its size 0): debugfs reads the size and the last byte where the extents put it, and e2fsck passes', () => {
  const tmp = tempDir('ext4-4gib');
  try {
    const source = join(tmp.path, 'source');
    mkdirSync(source);
    const size = 2 ** 32;
    makeSparseFile(join(source, 'f'), size, [[size - 1, 'z']]);
    const image = join(tmp.path, 'fs.img');
    buildMeasured(source, image);
    assertFsckClean(image);
    assert.match(runOk('debugfs', ['-R', 'stat /f', image]).stdout, new RegExp(`Size: ${size}\\n`));
    const last = Math.floor((size - 1) / 4096);
    const extent = fileExtents(image, '/f').find(([first, , length]) => last >= first && last < first + length);
    assert.ok(extent !== undefined, `an extent holds block ${last}`);
    const fd = openSync(image, 'r');
    const byte = Buffer.alloc(1);
    try {
      readSync(fd, byte, 0, 1, (extent[1] + last - extent[0]) * 4096 + ((size - 1) % 4096));
    } finally {
      closeSync(fd);
    }
    assert.equal(byte.toString(), 'z', 'its last byte');
  } finally {
    tmp.remove();
  }
});

/** Builds `source` into `image` in a process of its own; returns its peak memory in MiB. */
function buildMeasured(source: string, image: string): number {
  const script = fileURLToPath(new URL('./build-image.js', import.meta.url));
  const result = runOk('/usr/bin/time', ['-f', '%M', process.execPath, script, source, image, UUID]);
  return Number(result.stderr.trim().split('\n').at(-1)) / 1024;
}

/** A sparse file of `size` bytes holding `data` at the given offsets, zeros elsewhere. */
function makeSparseFile(path: string, size: number, data: readonly (readonly [number, string])[]): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  for (const [at, text] of data) writeSync(fd, Buffer.from(text), 0, text.length, at);
  closeSync(fd);
}

/** The file's extents as debugfs lists its leaves: [logical, physical, length] in blocks. */
function fileExtents(image: string, path: string): [number, number, number][] {
  const out = runOk('debugfs', ['-R', `ex ${path}`, image]).stdout;
  const rows = [...out.matchAll(/^\s*(\d+)\/\s*(\d+)\s+\d+\/\s*\d+\s+(\d+) -\s+\d+\s+(\d+) -\s+\d+\s+(\d+)/gm)];
  return rows.filter((m) => m[1] === m[2]).map((m) => [Number(m[3]), Number(m[4]), Number(m[5])]);
}

test('a 10 GiB sparse file: the image stays sparse, e2fsck passes, its bytes read back and memory stays flat', () => {
  const tmp = tempDir('ext4-sparse');
  try {
    const size = 10 * 2 ** 30 + 4097;
    const data = [[0, 'start'], [4 * 2 ** 30 + 123, 'past four GiB'], [size - 17, 'data near the end']] as const;
    const small = join(tmp.path, 'small');
    const large = join(tmp.path, 'large');
    mkdirSync(small);
    mkdirSync(large);
    makeSparseFile(join(small, 'sparse'), 2 ** 30, [[0, 'start']]);
    makeSparseFile(join(large, 'sparse'), size, data);
    const smallPeak = buildMeasured(small, join(tmp.path, 'small.img'));
    const image = join(tmp.path, 'large.img');
    const peak = buildMeasured(large, image);
    assert.ok(peak < smallPeak + 16, `peak memory ${peak.toFixed(0)} MiB for 10 GiB against ${smallPeak.toFixed(0)} MiB for 1 GiB`);
    const st = statSync(image);
    assert.ok(st.size > size);
    assert.ok(st.blocks * 512 < 64 << 20, `the image takes ${st.blocks * 512} bytes on disk`);
    assertFsckClean(image);
    assert.match(runOk('debugfs', ['-R', 'stat /sparse', image]).stdout, new RegExp(`Size: ${size}\\n`));

    // Every block of the file read from the image: the data where it was written, zeros elsewhere.
    const extents = fileExtents(image, '/sparse');
    let logical = 0;
    for (const [first, , length] of extents) {
      assert.equal(first, logical, 'the extents cover the file in order');
      logical += length;
    }
    assert.equal(logical, Math.ceil(size / 4096));
    const fd = openSync(image, 'r');
    const chunk = Buffer.alloc(8 << 20);
    const zeros = Buffer.alloc(chunk.length);
    let found = 0;
    try {
      for (const [first, physical, length] of extents) {
        for (let done = 0; done < length * 4096; done += chunk.length) {
          const take = Math.min(chunk.length, length * 4096 - done);
          assert.equal(readSync(fd, chunk, 0, take, physical * 4096 + done), take);
          const from = first * 4096 + done;
          const expected = zeros.subarray(0, take);
          const inside = data.filter(([at]) => at >= from && at < from + take);
          if (inside.length > 0) {
            const withData = Buffer.alloc(take);
            for (const [at, text] of inside) withData.write(text, at - from, 'latin1');
            assert.ok(chunk.subarray(0, take).equals(withData), `file bytes at ${from}`);
            found += inside.length;
          } else {
            assert.ok(chunk.subarray(0, take).equals(expected), `file bytes at ${from} are zeros`);
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    assert.equal(found, data.length);
  } finally {
    tmp.remove();
  }
});

/** The 4 KiB blocks a list of stretches touches, as sorted run starts and ends. */
function blockRuns(extents: Iterable<{ offset: number; length: number }>): number[] {
  const runs: number[] = [];
  for (const { offset, length } of extents) {
    if (length === 0) continue;
    const first = Math.floor(offset / 4096);
    const end = Math.floor((offset + length - 1) / 4096) + 1;
    if (runs.length > 0 && first <= runs.at(-1)!) runs[runs.length - 1] = Math.max(runs.at(-1)!, end);
    else runs.push(first, end);
  }
  return runs;
}

test('store paths: each one\'s directories come before its files, whose data is one stretch; the coverage is the segments\' without a walk', async () => {
  const tmp = tempDir('ext4-store');
  try {
    const src = join(tmp.path, 'src');
    const storePath = join(src, 'nix/store/aaaa-payload');
    for (const sub of ['bin', 'share/doc', 'share/lib/deep']) mkdirSync(join(storePath, sub), { recursive: true });
    const files = ['bin/tool', 'share/doc/readme', 'share/lib/deep/data', 'share/lib/z-last'];
    files.forEach((name, i) => writeFileSync(join(storePath, name), Buffer.alloc(5000 + i * 9000, 0x41 + i)));
    // A sparse file of 300 MiB: its data crosses the superblock backups of groups 1 and 3.
    truncateSync((writeFileSync(join(storePath, 'share/big'), ''), join(storePath, 'share/big')), 300 << 20);
    mkdirSync(join(src, 'nix/store/bbbb-other/etc'), { recursive: true });
    writeFileSync(join(src, 'nix/store/bbbb-other/etc/conf'), 'x'.repeat(70));
    const tree = lazyHostTree(src, { maxTime: 1, uid: 0, gid: 0 }) as DirNode;
    const fs = buildExt4(tree, { label: 'nixos', uuid: UUID, epoch: 1, headroomBytes: 200 << 20 });
    assert.deepEqual(blockRuns(fs.image.coverage!()), blockRuns(fs.image.segments()), 'coverage lists what the segments cover, block for block');
    const image = join(tmp.path, 'store.img');
    await writeImage(fs.image, image);
    assertFsckClean(image);
    const blocksOf = (path: string): number[] => runOk('debugfs', ['-R', `blocks "/nix/store/aaaa-payload${path}"`, image]).stdout.trim().split(/\s+/).filter((b) => b !== '').map(Number);
    const directories = ['', '/bin', '/share', '/share/doc', '/share/lib', '/share/lib/deep'].flatMap(blocksOf);
    // Inode order is depth-first with names sorted: bin/tool, share/big, share/doc/readme, ...
    const data = ['/bin/tool', '/share/big', '/share/doc/readme', '/share/lib/deep/data', '/share/lib/z-last'].map(blocksOf);
    assert.ok(Math.max(...directories) < Math.min(...data.flat()), 'the store path\'s directories come first');
    for (let i = 1; i < data.length; i++) {
      assert.ok(data[i]![0]! > data[i - 1]!.at(-1)!, 'files follow in inode order');
    }
    const backups = [1, 3].map((g) => g * 32768);
    const between = data.flat().length + backups.length * 2; // each backup: a superblock and the group descriptors
    assert.ok(data.at(-1)!.at(-1)! - data[0]![0]! + 1 <= between + 2 * 256, 'the files\' data is one stretch but for the backups (and their reserved blocks)');
  } finally {
    tmp.remove();
  }
});
