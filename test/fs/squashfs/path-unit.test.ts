/**
 * Store path units: with the root's entries named by an identity (a store path's NAR
 * hash), a warm cache places each unchanged entry's data area whole, reading none of its
 * files, and the image is byte for byte a build without the cache; an entry whose copies,
 * hard links or identity changed, or whose cached data is damaged, is written again; and
 * builds while other processes clear or evict the cache neither fail nor change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnitCache } from '../../../src/core/unit-cache.js';
import { dir, fileFromBytes, symlink, type DirNode, type FileNode, type NodeMeta } from '../../../src/fs/tree.js';
import { tempDir } from '../../helpers/run.js';
import { EPOCH, extract, noise, prose, sha256File, writeImage } from './squashfs-tools.js';

const FILE: NodeMeta = { permissions: 0o444, uid: 0, gid: 0, mtime: EPOCH };
const DIR: NodeMeta = { ...FILE, permissions: 0o555 };
const BLOCK = 128 * 1024;

interface Variant {
  /** Whether aaaa holds the file bbbb holds a copy of (another aaaa, another identity, when not). */
  readonly aHasShared: boolean;
  /** cccc's two names of one file, or two files of the same content. */
  readonly hardLinked: boolean;
  /** A new bbbb (another identity, other random bytes). */
  readonly newB: boolean;
}
const BASE: Variant = { aHasShared: true, hardLinked: true, newB: false };

const shared = prose(2 * BLOCK + 777, 1);
const linked = fileFromBytes(FILE, prose(BLOCK + 5, 2));

/** Three store paths; bbbb holds a copy of an aaaa file (when aaaa has it), cccc a hard link and a sparse file. */
function store(v: Variant): { root: DirNode; identities: Map<string, string> } {
  const a = dir(DIR, [
    ['bin', dir(DIR, [['tool', fileFromBytes(FILE, prose(3 * BLOCK + 100, 3))], ['sh', symlink(FILE, 'tool')]])],
    ['share', dir(DIR, [['shared', fileFromBytes(FILE, v.aHasShared ? shared : prose(2 * BLOCK + 777, 99))], ['empty', fileFromBytes(FILE, '')], ...Array.from({ length: 40 }, (_, i) => [`small-${i}`, fileFromBytes(FILE, prose(100 + i * 37, 10 + i))] as [string, FileNode])])],
  ]);
  const b = dir(DIR, [
    ['data', fileFromBytes(FILE, noise(2 * BLOCK + 4000, v.newB ? 21 : 20))],
    ['copy', fileFromBytes(FILE, shared)],
  ]);
  const c = dir(DIR, [
    ['one', linked],
    ['two', v.hardLinked ? linked : fileFromBytes(FILE, prose(BLOCK + 5, 2))],
    ['sparse', fileFromBytes(FILE, new Uint8Array(3 * BLOCK + 10))],
    ['tail', fileFromBytes(FILE, prose(900, 4))],
  ]);
  const bName = v.newB ? 'bbbc-random' : 'bbbb-random';
  const root = dir(DIR, [['aaaa-text', a], [bName, b], ['cccc-links', c], ['registration', fileFromBytes(FILE, `${bName}\n`)]]);
  // A NAR hash does not see hard links: cccc's identity is the same either way.
  const identities = new Map([['aaaa-text', `sha256:a ${v.aHasShared}`], [bName, `sha256:${bName}`], ['cccc-links', 'sha256:c']]);
  return { root, identities };
}

function openCache(directory: string): { cache: UnitCache; warnings: string[] } {
  const warnings: string[] = [];
  return { cache: new UnitCache({ directory, maxBytes: 1 << 30, warn: (line) => warnings.push(line) }), warnings };
}

const counts = (cache: UnitCache, kind: string): { hits: number; misses: number } => cache.byKind.get(kind) ?? { hits: 0, misses: 0 };

/** Builds `variant` without a cache and with `cacheDir`; asserts the two are the same bytes and returns the cache. */
async function buildBoth(tmp: string, name: string, variant: Variant, cacheDir: string): Promise<{ cache: UnitCache; warnings: string[]; image: string }> {
  const { root, identities } = store(variant);
  const plain = join(tmp, `${name}-plain.img`);
  await writeImage(store(variant).root, plain, { level: 3 });
  const opened = openCache(cacheDir);
  const image = join(tmp, `${name}.img`);
  await writeImage(root, image, { level: 3, cache: opened.cache, rootIdentities: identities });
  opened.cache.close();
  assert.equal(sha256File(image), sha256File(plain), `${name}: the build with the cache differs from the one without`);
  return { ...opened, image };
}

test('a warm cache places every store path whole: no block looked up, the same bytes, files read back', async () => {
  const tmp = tempDir('squashfs-path-unit');
  try {
    const cacheDir = join(tmp.path, 'cache');
    const cold = await buildBoth(tmp.path, 'cold', BASE, cacheDir);
    assert.deepEqual(counts(cold.cache, 'store path'), { hits: 0, misses: 3 });
    const warm = await buildBoth(tmp.path, 'warm', BASE, cacheDir);
    assert.deepEqual(counts(warm.cache, 'store path data'), { hits: 3, misses: 0 });
    assert.deepEqual(counts(warm.cache, 'squashfs data'), { hits: 1, misses: 0 }, 'only the registration\'s fragment block is looked up');
    assert.deepEqual([...cold.warnings, ...warm.warnings], []);
    const extracted = join(tmp.path, 'x');
    extract(warm.image, extracted);
    assert.deepEqual(readFileSync(join(extracted, 'bbbb-random/copy')), Buffer.from(shared));
    assert.equal(statSync(join(extracted, 'cccc-links/one')).ino, statSync(join(extracted, 'cccc-links/two')).ino);
  } finally {
    tmp.remove();
  }
});

test('a changed store path is written again and the others placed', async () => {
  const tmp = tempDir('squashfs-path-unit');
  try {
    const cacheDir = join(tmp.path, 'cache');
    await buildBoth(tmp.path, 'cold', BASE, cacheDir);
    const warm = await buildBoth(tmp.path, 'changed', { ...BASE, newB: true }, cacheDir);
    assert.deepEqual(counts(warm.cache, 'store path data'), { hits: 2, misses: 0 });
    assert.deepEqual(counts(warm.cache, 'store path'), { hits: 2, misses: 1 });
  } finally {
    tmp.remove();
  }
});

test('a path whose file is no longer a copy, or is one now, or whose hard links changed, is written again', async () => {
  const tmp = tempDir('squashfs-path-unit');
  try {
    const cacheDir = join(tmp.path, 'cache');
    await buildBoth(tmp.path, 'cold', BASE, cacheDir);
    // A new aaaa without the file bbbb's copy is of: bbbb is unchanged, and its unit is
    // found, but its file must now be stored, so it is written again rather than placed.
    const notCopy = await buildBoth(tmp.path, 'not-copy', { ...BASE, aHasShared: false }, cacheDir);
    assert.deepEqual(counts(notCopy.cache, 'store path'), { hits: 2, misses: 1 }, 'bbbb and cccc found, the new aaaa not');
    assert.deepEqual(counts(notCopy.cache, 'store path data'), { hits: 1, misses: 0 }, 'only cccc placed');
    // And back: bbbb's file, stored in the unit just written, is a copy again.
    const copyAgain = await buildBoth(tmp.path, 'copy-again', BASE, cacheDir);
    assert.deepEqual(counts(copyAgain.cache, 'store path data'), { hits: 2, misses: 0 }, 'aaaa and cccc placed, not bbbb');
    // Two names of one inode in cccc become two files: its unit does not fit either.
    const unlinked = await buildBoth(tmp.path, 'unlinked', { ...BASE, hardLinked: false }, cacheDir);
    assert.deepEqual(counts(unlinked.cache, 'store path data'), { hits: 2, misses: 0 }, 'aaaa and bbbb placed, not cccc');
  } finally {
    tmp.remove();
  }
});

test('a damaged chunk of a cached path is reported once and the path written again; the image is the same', async () => {
  const tmp = tempDir('squashfs-path-unit');
  try {
    const cacheDir = join(tmp.path, 'cache');
    await buildBoth(tmp.path, 'cold', BASE, cacheDir);
    const entries = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const large = entries.filter((path) => readFileSync(path).subarray(0, 8).toString() === 'NGTSLARG');
    assert.equal(large.length, 3);
    const biggest = large.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(biggest);
    bytes[100_000]! ^= 0x01;
    writeFileSync(biggest, bytes);
    const warm = await buildBoth(tmp.path, 'warm', BASE, cacheDir);
    assert.equal(warm.warnings.length, 1, warm.warnings.join('\n'));
    assert.match(warm.warnings[0]!, /damaged cache entry/);
    const again = await buildBoth(tmp.path, 'again', BASE, cacheDir);
    assert.deepEqual(counts(again.cache, 'store path data'), { hits: 3, misses: 0 }, 'rebuilt');
  } finally {
    tmp.remove();
  }
});

test('builds while another process clears the cache, or evicts all of it, never fail and give the same bytes', async () => {
  const tmp = tempDir('squashfs-path-unit');
  try {
    const cacheDir = join(tmp.path, 'cache');
    const plain = join(tmp.path, 'plain.img');
    await writeImage(store(BASE).root, plain, { level: 3 });
    const module = new URL('../../../src/core/unit-cache.js', import.meta.url).href;
    // One process empties the cache over and over (--cache-clear), one fills it with
    // entries of its own under a bound of 1 byte, evicting everything else each time.
    const script = `
      import { clearUnitCache, UnitCache } from ${JSON.stringify(module)};
      const [directory, mode, stop] = process.argv.slice(1);
      let n = 0;
      while (Date.now() < Number(stop)) {
        if (mode === 'clear') clearUnitCache(directory);
        else {
          const cache = new UnitCache({ directory, maxBytes: 1, warn: () => undefined });
          cache.put(UnitCache.key('other', Uint8Array.of(n++ & 0xff)), { kind: 'compressed', bytes: new Uint8Array(4096) });
          cache.close();
        }
      }
    `;
    const stop = Date.now() + 6000;
    const others = ['clear', 'evict'].map((mode) => new Promise<number>((resolve) => {
      spawn(process.execPath, ['--input-type=module', '-e', script, cacheDir, mode, String(stop)], { stdio: 'inherit' }).on('exit', (code) => resolve(code ?? -1));
    }));
    let builds = 0;
    while (Date.now() < stop - 500) {
      const { root, identities } = store(BASE);
      const { cache } = openCache(cacheDir);
      const image = join(tmp.path, `build-${builds}.img`);
      await writeImage(root, image, { level: 3, cache, rootIdentities: identities });
      cache.close();
      assert.equal(sha256File(image), sha256File(plain), `build ${builds}`);
      builds++;
    }
    assert.deepEqual(await Promise.all(others), [0, 0]);
    assert.ok(builds >= 3, `${builds} builds`);
  } finally {
    tmp.remove();
  }
});
