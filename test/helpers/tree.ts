/** Fixture trees on disk and snapshots of trees, for round-trip comparisons. */
import { chmodSync, closeSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { digestFile } from './random-tree.js';

export interface EntrySnapshot {
  readonly type: 'file' | 'dir' | 'symlink';
  /** Permission bits. */
  readonly mode: number;
  readonly size: number;
  /** Digest of file contents (digestFile), or the link target. */
  readonly content: string;
}

/** Every entry under `root` keyed by relative path ("" is the root itself). */
export function snapshotTree(root: string): Map<string, EntrySnapshot> {
  const out = new Map<string, EntrySnapshot>();
  const visit = (rel: string): void => {
    const path = rel === '' ? root : join(root, rel);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      out.set(rel, { type: 'symlink', mode: st.mode & 0o7777, size: st.size, content: readlinkSync(path) });
    } else if (st.isDirectory()) {
      out.set(rel, { type: 'dir', mode: st.mode & 0o7777, size: 0, content: '' });
      for (const name of readdirSync(path).sort()) visit(rel === '' ? name : `${rel}/${name}`);
    } else {
      out.set(rel, { type: 'file', mode: st.mode & 0o7777, size: st.size, content: digestFile(Buffer.from(path), st.size) });
    }
  };
  visit('');
  return out;
}

/**
 * A tree with the cases a store can have: nested directories, many modes, empty files,
 * fast and slow symlinks, hard links, 255-byte names, 10,000 entries in one directory,
 * and a sparse file larger than 2 GiB.
 */
export function makeTortureTree(root: string, options: { sparseBytes?: number; bigDirEntries?: number } = {}): void {
  mkdirSync(root, { recursive: true });
  const big = join(root, 'big-directory');
  mkdirSync(big);
  for (let i = 0; i < (options.bigDirEntries ?? 10000); i++) writeFileSync(join(big, `entry-${String(i).padStart(5, '0')}`), i % 7 === 0 ? `content ${i}\n` : '');
  const deep = join(root, 'a/b/c/d/e/f/g/h');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'leaf'), 'deep\n');
  writeFileSync(join(root, 'empty'), '');
  writeFileSync(join(root, 'one-block'), Buffer.alloc(4096, 0x41));
  writeFileSync(join(root, 'block-and-a-byte'), Buffer.alloc(4097, 0x42));
  const random = Buffer.alloc(5 * 1024 * 1024 + 123);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(root, 'five-mib'), random);
  writeFileSync(join(root, 'setuid-tool'), '#!/bin/sh\n');
  chmodSync(join(root, 'setuid-tool'), 0o4755);
  writeFileSync(join(root, 'read-only'), 'ro\n');
  chmodSync(join(root, 'read-only'), 0o444);
  mkdirSync(join(root, 'sticky'));
  chmodSync(join(root, 'sticky'), 0o1777);
  writeFileSync(join(root, 'a/original'), 'linked content\n');
  linkSync(join(root, 'a/original'), join(root, 'a/b/hard-link'));
  linkSync(join(root, 'a/original'), join(root, 'hard-link-at-top'));
  symlinkSync('a/original', join(root, 'fast-symlink'));
  symlinkSync(`/nix/store/${'x'.repeat(32)}-${'long-target-'.repeat(20)}`, join(root, 'slow-symlink'));
  symlinkSync('does-not-exist', join(root, 'dangling'));
  writeFileSync(join(root, 'n'.repeat(255)), 'long name\n');
  writeFileSync(join(root, 'ünïcödé-name'), 'utf-8 name\n');
  const sparseBytes = options.sparseBytes ?? 0;
  if (sparseBytes > 0) {
    const fd = openSync(join(root, 'sparse'), 'w');
    ftruncateSync(fd, sparseBytes);
    writeSync(fd, Buffer.from('data in the middle'), 0, 18, Math.floor(sparseBytes / 3));
    writeSync(fd, Buffer.from('data near the end'), 0, 17, sparseBytes - 4096);
    closeSync(fd);
  }
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
