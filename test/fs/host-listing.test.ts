/**
 * A host directory's recorded listing: it lists what lazyHostTree lists (names, kinds,
 * permissions, times, sizes, link targets, hard links, bytes of non-UTF-8 names), at each
 * listing again and telling onFile each time; it stops holding when an entry is added,
 * removed or replaced by a hard link anywhere in the tree; and bytes that are not a whole
 * record are turned down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostListing } from '../../src/fs/host-listing.js';
import { lazyHostTree, type TreeNode } from '../../src/fs/tree.js';
import { tempDir } from '../helpers/run.js';

/** Everything a walk sees of a tree, with linkKeys replaced by the first path that had each. */
function describe(node: TreeNode, at = '', keys = new Map<string, string>()): string[] {
  const meta = `${node.permissions.toString(8)} ${node.uid}:${node.gid} ${node.mtime}`;
  if (node.kind === 'file') {
    let link = 'single';
    if (node.linkKey != null) {
      if (!keys.has(node.linkKey)) keys.set(node.linkKey, at);
      link = `linked to ${keys.get(node.linkKey)!}`;
    }
    return [`${at} file ${meta} ${node.size} ${node.content.kind === 'host' ? node.content.path : '?'} ${link}`];
  }
  if (node.kind === 'symlink') return [`${at} symlink ${meta} -> ${node.target}`];
  return [`${at} dir ${meta}`, ...node.list!().flatMap(([name, child]) => describe(child, `${at}/${name}`, keys))];
}

function makeTree(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'share', 'empty'), { recursive: true });
  writeFileSync(join(root, 'bin', 'tool'), '#!/bin/sh\n');
  chmodSync(join(root, 'bin', 'tool'), 0o555);
  writeFileSync(join(root, 'share', 'data'), 'd'.repeat(10000));
  linkSync(join(root, 'share', 'data'), join(root, 'share', 'same-data'));
  writeFileSync(Buffer.from(join(root, 'share', 'caf\xe9'), 'latin1'), 'latin1 name');
  symlinkSync('../bin/tool', join(root, 'share', 'tool-link'));
}

test('a recorded listing lists what the host listing lists, at each listing, telling onFile each time', () => {
  const tmp = tempDir('host-listing');
  try {
    const root = join(tmp.path, 'path');
    makeTree(root);
    const options = { maxTime: 5_000_000_000, uid: 0, gid: 0 };
    const listing = HostListing.record(root)!;
    assert.notEqual(listing.check(root), undefined);
    const expected = describe(lazyHostTree(root, options));
    assert.ok(expected.some((line) => line.includes('same-data file') && line.includes('linked to /share/data')), 'the hard link is seen');
    assert.ok(expected.some((line) => line.includes('caf\xe9 file')), 'the latin1 name is kept byte for byte');
    const read = HostListing.read(new Uint8Array(listing.bytes))!;
    const tree = read.tree(root, options);
    assert.deepEqual(describe(tree), expected);
    assert.deepEqual(describe(tree), expected, 'listed again');

    const told: string[] = [];
    const observed = read.tree(root, { ...options, onFile: (path, size) => told.push(`${path} ${size}`) });
    describe(observed);
    describe(observed);
    assert.equal(told.length, 2 * 4, 'four files, told at each of two walks');
    assert.ok(told.includes(`${join(root, 'share', 'data')} 10000`));

    const keys = read.check(root)!;
    assert.equal(keys.linked.length, 2);
    assert.equal(new Set(keys.linked).size, 1, 'the two names of one inode');
    assert.equal(keys.single.length, 2);
    assert.equal(HostListing.record(join(root, 'bin', 'tool')), undefined, 'a file has no listing');
  } finally {
    tmp.remove();
  }
});

test('a recorded listing stops holding when an entry is added, removed or replaced by a hard link, and torn bytes are turned down', () => {
  const tmp = tempDir('host-listing-stale');
  try {
    const root = join(tmp.path, 'path');
    const changes: [string, () => void][] = [
      ['a file added deep down', () => writeFileSync(join(root, 'share', 'empty', 'new'), '')],
      ['a file removed', () => rmSync(join(root, 'bin', 'tool'))],
      ['a file replaced by a hard link to another (as nix-store --optimise does)', () => {
        linkSync(join(root, 'share', 'data'), join(root, 'bin', '.tmp-link'));
        renameSync(join(root, 'bin', '.tmp-link'), join(root, 'bin', 'tool'));
      }],
      ['a directory replaced', () => {
        rmSync(join(root, 'share', 'empty'), { recursive: true });
        mkdirSync(join(root, 'share', 'empty'));
      }],
    ];
    for (const [what, change] of changes) {
      rmSync(root, { recursive: true, force: true });
      makeTree(root);
      const listing = HostListing.record(root)!;
      assert.notEqual(listing.check(root), undefined, `${what}: holds before`);
      change();
      assert.equal(listing.check(root), undefined, what);
    }
    const listing = HostListing.record(root)!;
    assert.equal(HostListing.read(listing.bytes.subarray(0, listing.bytes.length - 3))?.check(root), undefined, 'torn');
    assert.equal(HostListing.read(new Uint8Array([9, 0, 0, 0, 0])), undefined, 'another layout');
    const flipped = new Uint8Array(listing.bytes);
    flipped[flipped.length - 40]! ^= 0xff;
    assert.doesNotThrow(() => HostListing.read(flipped)?.check(root));
  } finally {
    tmp.remove();
  }
});
