/**
 * The data area through the unit cache: a build with a warm cache is byte for byte a cold
 * build without it, for every compressor; a change in one entry of the root leaves every
 * other entry's blocks and fragment blocks found in the cache; a damaged entry and a full
 * cache filesystem change nothing in the image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_ENTRY_BYTES, UnitCache } from '../../../src/core/unit-cache.js';
import type { SquashfsCompression } from '../../../src/fs/squashfs/codec.js';
import { dir, fileFromBytes, type DirNode, type NodeMeta } from '../../../src/fs/tree.js';
import { runOk, tempDir } from '../../helpers/run.js';
import { EPOCH, extract, noise, prose, sha256File, writeImage } from './squashfs-tools.js';

const FILE: NodeMeta = { permissions: 0o444, uid: 0, gid: 0, mtime: EPOCH };
const DIR: NodeMeta = { ...FILE, permissions: 0o555 };
const BLOCK = 128 * 1024;

const generated = new Map<string, Uint8Array>();
/** Generated once per test file: the generators are slower than the writer. */
function contentOf(kind: typeof prose, length: number, seed: number): Uint8Array {
  const id = `${kind.name} ${length} ${seed}`;
  let bytes = generated.get(id);
  if (bytes === undefined) generated.set(id, bytes = kind(length, seed));
  return bytes;
}

/** A file's length: a few of two blocks and a tail, the rest small (many tails share a fragment block, as in a store). */
const lengthOf = (i: number): number => (i % 25 === 0 ? 2 * BLOCK : 0) + 300 + ((i * 7919) % 2700);

/** Three "store paths": text files, random files, and text again after them. */
function storeLike(changedTail = 0): DirNode {
  const path = (seed: number, content: typeof prose, count: number, extra = 0) => dir(DIR, Array.from({ length: count }, (_, i) => {
    const length = lengthOf(i) + (i === 0 ? extra : 0);
    return [`file-${String(i).padStart(3, '0')}`, fileFromBytes(FILE, contentOf(content, length, seed * 1000 + i))] as const;
  }));
  return dir(DIR, [
    ['aaaa-text', path(1, prose, 150)],
    ['bbbb-random', path(2, noise, 100, changedTail)],
    ['cccc-text', path(3, prose, 150)],
  ]);
}

function openCache(directory: string): { cache: UnitCache; warnings: string[] } {
  const warnings: string[] = [];
  return { cache: new UnitCache({ directory, maxBytes: 1 << 30, warn: (line) => warnings.push(line) }), warnings };
}

for (const compression of ['zstd', 'gzip', 'xz', 'lz4'] as const satisfies readonly SquashfsCompression[]) {
  test(`${compression}: a warm cache gives the bytes of a cold build without it, compressing nothing`, async () => {
    const tmp = tempDir('squashfs-cache');
    try {
      const image = (name: string): string => join(tmp.path, `${name}.img`);
      await writeImage(storeLike(), image('plain'), { compression });
      const cold = openCache(join(tmp.path, 'cache'));
      await writeImage(storeLike(), image('cold'), { compression, cache: cold.cache });
      cold.cache.close();
      const warm = openCache(join(tmp.path, 'cache'));
      await writeImage(storeLike(), image('warm'), { compression, cache: warm.cache });
      assert.equal(sha256File(image('cold')), sha256File(image('plain')));
      assert.equal(sha256File(image('warm')), sha256File(image('plain')));
      assert.equal(warm.cache.misses, 0);
      assert.equal(warm.cache.hits, cold.cache.misses);
      assert.ok(warm.cache.hits > 20, `${warm.cache.hits} hits`);
      assert.deepEqual([...cold.warnings, ...warm.warnings], []);
      // Random blocks are remembered as stored raw: their entries hold no bytes.
      const sizes = readdirSync(join(tmp.path, 'cache'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => statSync(join(e.parentPath, e.name)).size);
      assert.ok(sizes.some((s) => s === EMPTY_ENTRY_BYTES) && sizes.some((s) => s > 1000), `entry sizes ${[...new Set(sizes)].join(' ')}`);
      const extracted = join(tmp.path, 'x');
      extract(image('warm'), extracted);
      assert.deepEqual(readFileSync(join(extracted, 'cccc-text/file-025')), Buffer.from(contentOf(prose, lengthOf(25), 3025)));
    } finally {
      tmp.remove();
    }
  });
}

// zstd 3 from here on: the level makes no difference to the cache, and 19 is slow.
test('a change in one entry of the root leaves the others\' blocks and fragment blocks in the cache', async () => {
  const tmp = tempDir('squashfs-cache');
  try {
    const cold = openCache(join(tmp.path, 'cache'));
    await writeImage(storeLike(), join(tmp.path, 'before.img'), { level: 3, cache: cold.cache });
    // The first random file grows by 5,000 bytes: its tail, and so every later tail,
    // moves within the fragment blocks, unless a new one starts at the next path.
    // The changed path written alone, before and after the change into a cache of its
    // own: the units the change itself makes new.
    const alone = openCache(join(tmp.path, 'alone'));
    const onlyChanged = (tree: DirNode): DirNode => dir(DIR, [['bbbb-random', tree.entries.get('bbbb-random')!]]);
    await writeImage(onlyChanged(storeLike()), join(tmp.path, 'alone-before.img'), { level: 3, cache: alone.cache });
    const fresh = openCache(join(tmp.path, 'alone'));
    await writeImage(onlyChanged(storeLike(5000)), join(tmp.path, 'alone-after.img'), { level: 3, cache: fresh.cache });
    const data = (cache: UnitCache): { hits: number; misses: number } => cache.byKind.get('squashfs data')!;
    assert.ok(data(fresh.cache).misses > 0 && data(fresh.cache).hits > 0);
    const warm = openCache(join(tmp.path, 'cache'));
    await writeImage(storeLike(5000), join(tmp.path, 'warm.img'), { level: 3, cache: warm.cache });
    await writeImage(storeLike(5000), join(tmp.path, 'plain.img'), { level: 3 });
    assert.equal(sha256File(join(tmp.path, 'warm.img')), sha256File(join(tmp.path, 'plain.img')));
    // In the whole tree, no more: the other paths' fragment blocks did not move.
    assert.equal(data(warm.cache).misses, data(fresh.cache).misses);
    assert.equal(data(warm.cache).hits, data(cold.cache).misses - data(fresh.cache).misses);
  } finally {
    tmp.remove();
  }
});

test('a damaged entry is rebuilt and reported once; the image is the same', async () => {
  const tmp = tempDir('squashfs-cache');
  try {
    const cacheDir = join(tmp.path, 'cache');
    const cold = openCache(cacheDir);
    await writeImage(storeLike(), join(tmp.path, 'cold.img'), { level: 3, cache: cold.cache });
    const entries = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const largest = entries.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(largest);
    bytes[bytes.length - 1]! ^= 0x40;
    writeFileSync(largest, bytes);
    const warm = openCache(cacheDir);
    await writeImage(storeLike(), join(tmp.path, 'warm.img'), { level: 3, cache: warm.cache });
    warm.cache.close();
    assert.equal(sha256File(join(tmp.path, 'warm.img')), sha256File(join(tmp.path, 'cold.img')));
    assert.equal(warm.cache.misses, 1);
    assert.equal(warm.warnings.length, 1, warm.warnings.join('\n'));
    assert.match(warm.warnings[0]!, /damaged cache entry/);
    const again = openCache(cacheDir);
    await writeImage(storeLike(), join(tmp.path, 'again.img'), { level: 3, cache: again.cache });
    assert.equal(again.cache.misses, 0, 'rebuilt');
  } finally {
    tmp.remove();
  }
});

test('a cache on a full filesystem never fails the build, nor changes its bytes', async () => {
  const tmp = tempDir('squashfs-cache');
  const mount = join(tmp.path, 'small');
  mkdirSync(mount);
  runOk('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
  try {
    // 60 text files of two blocks each, about 2 MiB compressed at zstd 1: more than the 1 MiB.
    const big = dir(DIR, [['path', dir(DIR, Array.from({ length: 60 }, (_, i) => [`f${i}`, fileFromBytes(FILE, prose(2 * BLOCK, i))] as const))]]);
    const { cache, warnings } = openCache(mount);
    await writeImage(big, join(tmp.path, 'cached.img'), { compression: 'zstd', level: 1, cache });
    cache.close();
    await writeImage(big, join(tmp.path, 'plain.img'), { compression: 'zstd', level: 1 });
    assert.equal(sha256File(join(tmp.path, 'cached.img')), sha256File(join(tmp.path, 'plain.img')));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /ENOSPC/);
  } finally {
    runOk('umount', [mount]);
    tmp.remove();
  }
});
