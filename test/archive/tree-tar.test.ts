import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, ftruncateSync, linkSync, mkdirSync, openSync, readFileSync, readSync, statSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TarWriter } from '../../src/archive/tar.js';
import { addTree } from '../../src/archive/tree-tar.js';
import { ImageError } from '../../src/core/errors.js';
import { outputFileSink } from '../../src/core/sink.js';
import { dir, lazyHostTree, type DirNode, type FileNode } from '../../src/fs/tree.js';
import { writeTo } from '../helpers/output.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { makeTortureTree, snapshotTree } from '../helpers/tree.js';

const EPOCH = 1_700_000_000;

function hostTree(path: string): DirNode {
  return lazyHostTree(path, { maxTime: EPOCH, uid: 0, gid: 0 }) as DirNode;
}

async function writeTreeTar(path: string, name: string, root: DirNode): Promise<string> {
  return writeTo(path, async (out) => {
    const tar = new TarWriter(outputFileSink(out), { mtime: EPOCH, format: 'gnu' });
    await addTree(tar, name, root);
    await tar.finish();
  });
}

test('a tree is byte for byte what GNU tar --sort=name --format=gnu writes: long names and targets, symlinks, hard links, modes', async () => {
  const work = tempDir('tree-tar-gnu');
  try {
    const source = join(work.path, 'root');
    mkdirSync(join(source, 'sub/deeper'), { recursive: true });
    writeFileSync(join(source, 'sub/deeper/file'), 'hello\n');
    writeFileSync(join(source, 'z-last'), Buffer.alloc(70_000, 7));
    writeFileSync(join(source, 'l'.repeat(180)), 'long\n');
    symlinkSync('sub/deeper/file', join(source, 'link'));
    symlinkSync(`/nix/store/${'t'.repeat(150)}`, join(source, 'long-target'));
    linkSync(join(source, 'sub/deeper/file'), join(source, 'a-hard-link'));
    writeFileSync(join(source, 'setuid'), '#!/bin/sh\n');
    chmodSync(join(source, 'setuid'), 0o4555);
    chmodSync(join(source, 'sub'), 0o555);
    const ours = await writeTreeTar(join(work.path, 'ours.tar'), 'root', hostTree(source));
    const theirs = join(work.path, 'theirs.tar');
    runOk('tar', ['--sort=name', '--format=gnu', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${EPOCH}`, '-C', work.path, '-cf', theirs, 'root']);
    chmodSync(join(source, 'sub'), 0o755);
    assert.equal(runOk('tar', ['-tvvf', ours]).stdout, runOk('tar', ['-tvvf', theirs]).stdout);
    assert.ok(readFileSync(ours).equals(readFileSync(theirs)), 'same bytes as GNU tar');
  } finally {
    work.remove();
  }
});

test('the torture tree round-trips through GNU tar: names of any bytes, modes, hard links, 2,000 entries in one directory', async () => {
  const work = tempDir('tree-tar-torture');
  try {
    const source = join(work.path, 'source');
    makeTortureTree(source, { bigDirEntries: 2000 });
    writeFileSync(join(source, Buffer.from('new\nline-\xff-name', 'latin1').toString('latin1')), 'odd name\n');
    utimesSync(source, EPOCH, EPOCH);
    const archive = await writeTreeTar(join(work.path, 'tree.tar'), 'source', hostTree(source));
    const extracted = join(work.path, 'extracted');
    mkdirSync(extracted);
    runOk('tar', ['-xpf', archive, '-C', extracted]);
    assert.deepEqual(snapshotTree(join(extracted, 'source')), snapshotTree(source));
    const first = statSync(join(extracted, 'source/a/original'));
    assert.equal(first.nlink, 3, 'hard links stay hard links');
    assert.equal(statSync(join(extracted, 'source/hard-link-at-top')).ino, first.ino);
  } finally {
    work.remove();
  }
});

test('a 5 GiB sparse file becomes a GNU sparse member: the archive stays small and GNU tar restores its data and size', async () => {
  const work = tempDir('tree-tar-sparse');
  try {
    const source = join(work.path, 'root');
    mkdirSync(source);
    const sparse = join(source, 'sparse');
    const size = 5 * 1024 ** 3 + 4096 + 7;
    const fd = openSync(sparse, 'w');
    ftruncateSync(fd, size);
    writeSync(fd, Buffer.from('data in the middle'), 0, 18, Math.floor(size / 3));
    writeSync(fd, Buffer.from('data near the end'), 0, 17, size - 20);
    closeSync(fd);
    writeFileSync(join(source, 'dense'), Buffer.alloc(2 << 20, 1));
    const archive = await writeTreeTar(join(work.path, 'sparse.tar'), 'root', hostTree(source));
    assert.ok(statSync(archive).size < 3 << 20, `${statSync(archive).size} bytes: the holes are not stored`);
    assert.match(runOk('tar', ['-tvf', archive]).stdout, new RegExp(`-rw-r--r-- 0/0\\s+${size} \\S+ \\S+ root/sparse\\n`));
    const extracted = join(work.path, 'extracted');
    mkdirSync(extracted);
    runOk('tar', ['-xpf', archive, '-C', extracted]);
    const back = join(extracted, 'root/sparse');
    assert.equal(statSync(back).size, size);
    const read = (at: number, length: number): string => {
      const buffer = Buffer.alloc(length);
      const fd = openSync(back, 'r');
      try {
        readSync(fd, buffer, 0, length, at);
      } finally {
        closeSync(fd);
      }
      return buffer.toString('latin1');
    };
    assert.equal(read(Math.floor(size / 3), 18), 'data in the middle');
    assert.equal(read(size - 20, 20), 'data near the end\0\0\0');
    assert.equal(read(4096, 16), '\0'.repeat(16));
    assert.ok(readFileSync(join(extracted, 'root/dense')).equals(Buffer.alloc(2 << 20, 1)), 'a dense file stays a plain member');
  } finally {
    work.remove();
  }
});

test('a name that is not a byte string is refused with one line', async () => {
  const work = tempDir('tree-tar-bad');
  try {
    const meta = { permissions: 0o644, uid: 0, gid: 0, mtime: 0 };
    const file: FileNode = { kind: 'file', ...meta, size: 0, content: { kind: 'bytes', bytes: new Uint8Array(0) } };
    await assert.rejects(writeTreeTar(join(work.path, 'bad.tar'), 'root', dir({ ...meta, permissions: 0o755 }, [['\u20ac', file]])),
      (error: unknown) => error instanceof ImageError && /not a byte string/.test(error.message));
    assert.equal(run('ls', [join(work.path, 'bad.tar')]).status, 2, 'nothing at the output path');
  } finally {
    work.remove();
  }
});
