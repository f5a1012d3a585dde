/**
 * A store that changes under the build is detected: a file whose size differs from the
 * listing, that is gone, or that was rewritten in the store (its time is not Nix's 1),
 * stops the writers with one line instead of an image that
 * differs from the closure's registration (ext4, FAT, squashfs and tar all open files
 * through the same check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, closeSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/core/block-image.js';
import { ImageError } from '../../src/core/errors.js';
import { openListedFile } from '../../src/core/listed-file.js';
import { buildExt4 } from '../../src/fs/ext4/index.js';
import { buildFat } from '../../src/fs/fat/index.js';
import { lazyHostTree, type DirNode } from '../../src/fs/tree.js';
import { run, runOk, tempDir } from '../helpers/run.js';

function isChange(e: unknown, pattern: RegExp): boolean {
  return e instanceof ImageError && pattern.test(e.message) && !e.message.includes('\n');
}

test('openListedFile checks the size the file was listed with; a vanished file says so', () => {
  const tmp = tempDir('listed');
  try {
    const file = join(tmp.path, 'f');
    writeFileSync(file, 'abc');
    closeSync(openListedFile(file, 3));
    assert.throws(() => openListedFile(file, 4), (e: unknown) => isChange(e, /had 4 bytes when listed and has 3 now \(the store changed during the build\)/));
    rmSync(file);
    assert.throws(() => openListedFile(file, 3), (e: unknown) => isChange(e, /it is gone \(the store changed during the build\)/));
  } finally {
    tmp.remove();
  }
});

test('a file that grows after the listing stops the ext4 and FAT writers', () => {
  const tmp = tempDir('listed');
  try {
    const dir = join(tmp.path, 'store-path');
    mkdirSync(dir);
    writeFileSync(join(dir, 'kernel'), 'k'.repeat(10000));
    writeFileSync(join(dir, 'other'), 'unchanged');
    const tree = lazyHostTree(dir, { maxTime: 1, uid: 0, gid: 0 }) as DirNode;
    const ext4 = buildExt4(tree, { label: 'nixos', uuid: '44444444-4444-4444-8888-888888888888', epoch: 1 });
    const fat = buildFat(lazyHostTree(dir, { maxTime: 1, uid: 0, gid: 0 }) as DirNode, { sizeBytes: 8 << 20, label: 'ESP', volumeId: 1 });
    appendFileSync(join(dir, 'kernel'), 'grown');
    assert.throws(() => readAll(ext4.image), (e: unknown) => isChange(e, /kernel": it had 10000 bytes when listed and has 10005 now/));
    assert.throws(() => readAll(fat), (e: unknown) => isChange(e, /kernel": it had 10000 bytes when listed and has 10005 now/));
  } finally {
    tmp.remove();
  }
});

test('a store file rewritten in place with the same size is caught by its time (Nix gives every store file the time 1)', () => {
  const tmp = tempDir('rewritten');
  const source = join(tmp.path, 'store-path');
  mkdirSync(source);
  writeFileSync(join(source, 'kernel'), `kernel of a rewrite test ${process.pid} ${Date.now()}\n`);
  const storePath = runOk('nix-store', ['--add', source]).stdout.trim();
  try {
    const kernel = join(storePath, 'kernel');
    const { size, mtimeMs } = statSync(kernel);
    assert.equal(mtimeMs, 1000, 'Nix gave the store file the time 1');
    closeSync(openListedFile(kernel, size));
    const ext4 = buildExt4(lazyHostTree(storePath, { maxTime: 1, uid: 0, gid: 0 }) as DirNode, { label: 'nixos', uuid: '44444444-4444-4444-8888-888888888888', epoch: 1 });
    // Root rewrites the file in place, keeping its size.
    chmodSync(kernel, 0o644);
    writeFileSync(kernel, 'X'.repeat(size));
    chmodSync(kernel, 0o444);
    const rewritten = /kernel": it was modified at \d{4}-\d\d-\d\dT[\d:.]+Z, after Nix registered it \(store files keep the time 1970-01-01T00:00:01Z\)$/;
    assert.throws(() => openListedFile(kernel, size), (e: unknown) => isChange(e, rewritten));
    assert.throws(() => readAll(ext4.image), (e: unknown) => isChange(e, rewritten));
  } finally {
    run('nix-store', ['--delete', storePath]);
    tmp.remove();
  }
});
