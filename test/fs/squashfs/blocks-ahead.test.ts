/**
 * Blocks of new store paths compressed ahead (fs/squashfs/blocks-ahead.ts): each whole
 * block is stored in the cache under the key the writer looks it up by, with the bytes the
 * writer's pool would make (all-zero blocks and blocks the cache has are skipped); a
 * squashfs written afterwards finds them and is byte for byte a build without the cache;
 * once the writer reaches a block not made yet, every block not started is taken back, and
 * the files are listed only as their blocks are handed over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnitCache } from '../../../src/core/unit-cache.js';
import { compressBlock } from '../../../src/fs/squashfs/block-compress.js';
import { BlocksAhead } from '../../../src/fs/squashfs/blocks-ahead.js';
import { blockCacheSettings, blockCodec } from '../../../src/fs/squashfs/codec.js';
import { lazyHostTree } from '../../../src/fs/tree.js';
import { tempDir } from '../../helpers/run.js';
import { cacheEntries, untilCached } from '../../helpers/cache-entries.js';
import { EPOCH, noise, prose, sha256File, writeImage } from './squashfs-tools.js';

const BLOCK = 128 * 1024;
const codec = blockCodec('zstd', 3, BLOCK);

/** A store of two paths of host files: a path of text and noise, zeros and a copy, and a small one. */
function hostStore(root: string): { files: { path: string; size: number }[]; identities: Map<string, string> } {
  const files: { path: string; size: number }[] = [];
  const put = (path: string, bytes: Uint8Array): void => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, bytes);
    files.push({ path, size: bytes.length });
  };
  const big = Buffer.concat([prose(3 * BLOCK, 1), noise(2 * BLOCK + 999, 2)]);
  put(join(root, 'bbbb-new/share/big'), big);
  put(join(root, 'bbbb-new/share/zeros'), new Uint8Array(3 * BLOCK));
  put(join(root, 'bbbb-new/share/copy'), big);
  put(join(root, 'aaaa-small/etc/conf'), prose(5000, 3));
  return { files, identities: new Map([['aaaa-small', 'sha256:a'], ['bbbb-new', 'sha256:b']]) };
}


test('blocks made ahead are the blocks the writer makes, under its keys; the squashfs finds them and is the same bytes', async () => {
  const tmp = tempDir('squashfs-ahead');
  try {
    const store = join(tmp.path, 'store');
    const { files, identities } = hostStore(store);
    const cacheDir = join(tmp.path, 'cache');
    const cache = new UnitCache({ directory: cacheDir, maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    const ahead = new BlocksAhead(cache, codec, BLOCK);
    ahead.anticipate(files);
    // The big file's five blocks; the zeros are written sparse, the copy's blocks are the big file's.
    await untilCached(cacheDir, 5, 'blocks');
    await ahead.close();
    assert.equal(cacheEntries(cacheDir), 5);
    const big = files[0]!;
    const bytes = Buffer.concat([prose(3 * BLOCK, 1), noise(2 * BLOCK + 999, 2)]);
    for (let block = 0; block < 5; block++) {
      const input = bytes.subarray(block * BLOCK, (block + 1) * BLOCK);
      const key = UnitCache.key(blockCacheSettings(codec, BLOCK), createHash('sha256').update(input).digest());
      const expected = await compressBlock(codec, input);
      const found = cache.get(key, 'check');
      if (expected.length < BLOCK) assert.deepEqual(found, { kind: 'compressed', bytes: Buffer.from(expected) }, `block ${block} of ${big.path}`);
      else assert.deepEqual(found, { kind: 'stored' }, `block ${block} (noise) is stored raw`);
    }

    const root = lazyHostTree(store, { maxTime: EPOCH, uid: 0, gid: 0 });
    if (root.kind !== 'dir') assert.fail('the store is a directory');
    const plain = join(tmp.path, 'plain.img');
    await writeImage(root, plain, { level: 3, blockSize: BLOCK });
    const warm = new UnitCache({ directory: cacheDir, maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    const image = join(tmp.path, 'warm.img');
    await writeImage(root, image, { level: 3, blockSize: BLOCK, cache: warm, rootIdentities: identities });
    assert.equal(sha256File(image), sha256File(plain));
    assert.ok((warm.byKind.get('squashfs data')?.hits ?? 0) >= 5, 'the blocks made ahead are found');
  } finally {
    tmp.remove();
  }
});

test('once the writer reaches a block not made yet, every block not started is taken back and never made', async () => {
  const tmp = tempDir('squashfs-ahead-back');
  try {
    const { files } = hostStore(join(tmp.path, 'store'));
    const cacheDir = join(tmp.path, 'cache');
    const cache = new UnitCache({ directory: cacheDir, maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    const ahead = new BlocksAhead(cache, codec, BLOCK);
    ahead.anticipate(files);
    // Handed over just now: the thread is still starting, so it has started none.
    await ahead.settle(files[0]!.path, 0);
    await ahead.settle(files[0]!.path, BLOCK); // taken back already: nothing to wait for
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ahead.close();
    assert.equal(cacheEntries(cacheDir), 0);
  } finally {
    tmp.remove();
  }
});

test('files are listed only as their blocks are handed over: once the writer catches up, the rest are never listed', async () => {
  const tmp = tempDir('squashfs-ahead-lazy');
  try {
    const files = Array.from({ length: 100 }, (_, i) => {
      const path = join(tmp.path, `f${i}`);
      writeFileSync(path, prose(2 * BLOCK, 100 + i));
      return { path, size: 2 * BLOCK };
    });
    let listed = 0;
    const cache = new UnitCache({ directory: join(tmp.path, 'cache'), maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    const ahead = new BlocksAhead(cache, codec, BLOCK);
    ahead.anticipate((function* () {
      for (const file of files) {
        listed++;
        yield file;
      }
    })());
    assert.ok(listed <= 33, `${listed} files listed for the first 64 blocks`);
    // The writer stores a block of a file not listed yet: it is past what the thread had.
    await ahead.settle(join(tmp.path, 'elsewhere'), 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await ahead.close();
    assert.ok(listed <= 34, `${listed} of 100 files listed`);
  } finally {
    tmp.remove();
  }
});
