import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildExt4 } from '../../../src/fs/ext4/index.js';
import { lazyHostTree, type DirNode } from '../../../src/fs/tree.js';
import { writeRaw } from '../../../src/container/raw.js';
import { writeTo } from '../../helpers/output.js';
import { run, runOk, tempDir } from '../../helpers/run.js';
import { assertFsckClean, assertNothingToOptimise } from './e2fs-checks.js';

const UUID = '5A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9';

/** Host paths as byte strings (latin1), so names of any bytes can be made and read back. */
const bytes = (path: string): Buffer => Buffer.from(path, 'latin1');

function makeFiles(dir: string, names: readonly string[]): void {
  mkdirSync(bytes(dir));
  names.forEach((name, i) => writeFileSync(bytes(`${dir}/${name}`), i % 11 === 0 ? `file ${i}\n` : ''));
}

/** A name of `length` bytes (1 to 255) from every byte but NUL and "/", distinct per `i`. */
function arbitraryName(i: number, length: number): string {
  const prefix = `${i.toString(36)}.`;
  const rest = Array.from({ length: length - prefix.length }, (_, k) => {
    const b = 1 + ((i * 131 + k * 17) % 255);
    return b === 0x2f ? 0x30 : b;
  });
  return prefix + String.fromCharCode(...rest);
}

/**
 * Directories on both sides of where a hashed index starts, the linear edge case
 * e2fsck keeps compact, 10,000 names of 1 to 255 arbitrary bytes, and 70,000 entries
 * (more leaves than the root can point at: one interior level).
 */
function makeDirectories(root: string): Record<string, readonly string[]> {
  const sized = (count: number, name: (i: number) => string): string[] => Array.from({ length: count }, (_, i) => name(i));
  const twelve = (i: number): string => `name-${String(i).padStart(7, '0')}`;
  const dirs: Record<string, readonly string[]> = {
    empty: [],
    'one-block': sized(50, twelve),
    // 202 records of 20 bytes and one of 28: 4,068 bytes, under e2fsck's 4,072 (a block less "." and ".."), so two compact blocks.
    'two-blocks-compact': [...sized(202, twelve), 'a-name-of-twenty-b.x'],
    // 204 records of 20 bytes: hashed, two leaves.
    'two-leaves': sized(204, twelve),
    names: sized(10_000, (i) => (i % 50 === 0 ? `${i}.`.padEnd(255, 'n') : arbitraryName(i, 1 + ((i * 7) % 60) + String(i).length))),
    many: sized(70_000, (i) => `entry-${String(i).padStart(6, '0')}-`.padEnd(40, 'x')),
  };
  mkdirSync(root);
  for (const [dir, names] of Object.entries(dirs)) makeFiles(join(root, dir), names);
  return dirs;
}

function namesIn(dir: string): string[] {
  return readdirSync(bytes(dir), { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort();
}

/** debugfs accepts a name on its command line when it has no blanks, quotes or backslashes. */
const quotable = (name: string): boolean => /^[\x21-\x7e\x80-\xff]+$/.test(name) && !/["\\]/.test(name);

test('large directories get a hashed index that e2fsck checks, e2fsck -D would not change, and debugfs reads back', async () => {
  const tmp = tempDir('ext4-htree');
  try {
    const src = join(tmp.path, 'src');
    const dirs = makeDirectories(src);
    const fs = buildExt4(lazyHostTree(src, { maxTime: 1, uid: 0, gid: 0 }) as DirNode, { label: 'nixos', uuid: UUID, epoch: 1 });
    const image = join(tmp.path, 'fs.img');
    await writeTo(image, (out) => writeRaw(fs.image, out));
    assertFsckClean(image);
    assertNothingToOptimise(image, ['/', ...Object.keys(dirs).map((d) => `/${d}`)], tmp.path);

    const htree = (dir: string): string => run('debugfs', ['-R', `htree /${dir}`, image]).stdout + run('debugfs', ['-R', `htree /${dir}`, image]).stderr;
    for (const dir of ['empty', 'one-block', 'two-blocks-compact']) assert.match(htree(dir), /Not a hash-indexed directory/, dir);
    assert.match(htree('two-leaves'), /Indirect levels: 0[\s\S]*Number of entries \(count\): 2\n/);
    assert.match(htree('names'), /Hash Version: 1\n[\s\S]*Indirect levels: 0\n/);
    const many = htree('many');
    assert.match(many, /Indirect levels: 1\n[\s\S]*Number of entries \(limit\): 507\n/);
    assert.match(runOk('debugfs', ['-R', 'stat /many', image]).stdout, /Flags: 0x81000\b/, 'EXT4_INDEX_FL and extents');
    assert.match(runOk('dumpe2fs', ['-h', image]).stdout, /Filesystem flags:\s+signed_directory_hash[\s\S]*Default directory hash:\s+half_md4/);

    // Sampled names looked up by debugfs, one run.
    const sample = ['names', 'many'].flatMap((d) => dirs[d]!.filter((_, i) => i % 997 === 0).filter(quotable).map((n) => `/${d}/${n}`));
    assert.ok(sample.length > 70);
    writeFileSync(join(tmp.path, 'lookups'), Buffer.from(`${sample.map((p) => `stat ${p}`).join('\n')}\n`, 'latin1'));
    const lookups = run('debugfs', ['-f', join(tmp.path, 'lookups'), image]);
    assert.equal((lookups.stdout.match(/Type: regular/g) ?? []).length, sample.length, lookups.stderr);

    const restored = join(tmp.path, 'restored');
    mkdirSync(restored);
    runOk('debugfs', ['-R', `rdump / ${restored}`, image]);
    for (const [dir, names] of Object.entries(dirs)) {
      assert.deepEqual(namesIn(join(restored, dir)), [...names].sort(), `names of ${dir}`);
    }
    for (const [i, name] of dirs['names']!.entries()) {
      if (i % 11 !== 0) continue;
      assert.equal(readFileSync(bytes(`${restored}/names/${name}`), 'utf8'), `file ${i}\n`);
      assert.equal(lstatSync(bytes(`${src}/names/${name}`)).size, lstatSync(bytes(`${restored}/names/${name}`)).size);
    }
  } finally {
    tmp.remove();
  }
});

test('the check can fail: mke2fs -d leaves a large directory unindexed, which e2fsck -D rewrites', () => {
  const tmp = tempDir('ext4-htree-control');
  try {
    const src = join(tmp.path, 'src');
    makeFiles(src, Array.from({ length: 2000 }, (_, i) => `entry-${i}`));
    const image = join(tmp.path, 'fs.img');
    runOk('truncate', ['-s', '64M', image]);
    runOk('mkfs.ext4', ['-q', '-F', '-b', '4096', '-d', src, image]);
    assertFsckClean(image);
    assert.match(run('debugfs', ['-R', 'htree /', image]).stderr, /Not a hash-indexed directory/);
    assert.throws(() => assertNothingToOptimise(image, ['/'], tmp.path), /e2fsck -D rewrites \//);
  } finally {
    tmp.remove();
  }
});
