/**
 * Store path listings kept in the cache: the second build lists unchanged paths from the
 * cache (counted as hits of their kind, never as units) and a changed one from the host;
 * a file kept with one name that another path's file was hard-linked to since (as
 * nix-store --optimise links duplicates into /nix/store/.links) is listed again with its
 * link, as a cold listing sees it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LISTING_KIND, UnitCache } from '../../src/core/unit-cache.js';
import { lazyHostTree, type FileNode, type TreeNode } from '../../src/fs/tree.js';
import { listedStorePaths } from '../../src/nix/store-listings.js';
import { tempDir } from '../helpers/run.js';

const OPTIONS = { maxTime: 1, uid: 0, gid: 0 };

function fileAt(tree: TreeNode, name: string): FileNode {
  assert.equal(tree.kind, 'dir');
  const found = tree.list!().find(([child]) => child === name)?.[1];
  assert.equal(found?.kind, 'file', name);
  return found as FileNode;
}

test('unchanged store paths are listed from the cache; a file another path was linked to since is listed again with its link', () => {
  const tmp = tempDir('store-listings');
  try {
    const store = join(tmp.path, 'store');
    const [a, b, c] = ['a', 'b', 'c'].map((name) => join(store, `${name}-path`)) as [string, string, string];
    for (const path of [a, b]) {
      mkdirSync(join(path, 'lib'), { recursive: true });
      writeFileSync(join(path, 'lib', 'same.so'), 'the same content');
      writeFileSync(join(path, 'own'), path);
    }
    writeFileSync(c, 'a store path that is a file');
    const registrations = [a, b, c].map((path) => ({ path, narHash: `sha256:${path}` }));
    const counts = (cache: UnitCache): { hits: number; misses: number } => cache.byKind.get(LISTING_KIND) ?? { hits: 0, misses: 0 };
    const open = (): UnitCache => new UnitCache({ directory: join(tmp.path, 'cache'), maxBytes: 1 << 30, warn: (line) => assert.fail(line) });

    const first = open();
    const cold = listedStorePaths(first, registrations, OPTIONS);
    assert.deepEqual(counts(first), { hits: 0, misses: 3 });
    assert.equal(fileAt(cold.get(a)!, 'own').size, a.length);
    assert.equal(cold.get(c)!.kind, 'file', 'a path that is a file is listed from the host');
    first.close();

    const second = open();
    const warm = listedStorePaths(second, registrations, OPTIONS);
    assert.deepEqual(counts(second), { hits: 2, misses: 1 }, 'the directories from the cache; the file has no listing');
    assert.equal(second.reuse().units.total, 0, 'listings are not units');
    assert.deepEqual(fileAt(warm.get(b)!, 'own'), fileAt(lazyHostTree(b, OPTIONS), 'own'), 'as the host lists it');
    second.close();

    // nix-store --optimise: a's copy becomes the .links entry in place (its directory
    // untouched), then b's copy is replaced by a link to it (b's directory changes).
    mkdirSync(join(store, '.links'));
    linkSync(join(a, 'lib', 'same.so'), join(store, '.links', 'h'));
    linkSync(join(store, '.links', 'h'), join(b, 'lib', '.tmp'));
    renameSync(join(b, 'lib', '.tmp'), join(b, 'lib', 'same.so'));

    const third = open();
    const relisted = listedStorePaths(third, registrations, OPTIONS);
    const keyOf = (path: string): string | null | undefined => {
      const tree = relisted.get(path)!;
      assert.equal(tree.kind, 'dir');
      return fileAt(tree.list!().find(([name]) => name === 'lib')![1], 'same.so').linkKey;
    };
    assert.notEqual(keyOf(a), null, 'a\'s copy has two names now');
    assert.equal(keyOf(a), keyOf(b), 'one inode, as a cold listing sees it');
    const coldKey = fileAt(lazyHostTree(join(a, 'lib'), OPTIONS), 'same.so').linkKey;
    assert.equal(keyOf(a), coldKey);
    third.close();

    const fourth = open();
    listedStorePaths(fourth, registrations, OPTIONS);
    assert.deepEqual(counts(fourth), { hits: 2, misses: 1 }, 'the listings made again are kept');
    fourth.close();
  } finally {
    tmp.remove();
  }
});

test('a file kept with one name that a host file placed elsewhere in the image now shares is listed again', () => {
  const tmp = tempDir('store-listings-elsewhere');
  try {
    const path = join(tmp.path, 'store', 'a-path');
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'init'), '#!/bin/sh\n');
    const registrations = [{ path, narHash: 'sha256:a' }];
    const open = (): UnitCache => new UnitCache({ directory: join(tmp.path, 'cache'), maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    const first = open();
    listedStorePaths(first, registrations, OPTIONS);
    first.close();

    // A tarball's contents name a file outside the store paths that is now another name
    // of a/init (its directory untouched).
    mkdirSync(join(tmp.path, 'contents'));
    linkSync(join(path, 'init'), join(tmp.path, 'contents', 'init'));
    const contents = fileAt(lazyHostTree(join(tmp.path, 'contents'), OPTIONS), 'init');
    assert.notEqual(contents.linkKey, null);

    const second = open();
    const trees = listedStorePaths(second, registrations, OPTIONS, [contents.linkKey!]);
    assert.equal(fileAt(trees.get(path)!, 'init').linkKey, contents.linkKey, 'one inode in the image, as a cold build has it');
    second.close();
  } finally {
    tmp.remove();
  }
});
