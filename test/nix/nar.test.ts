import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dir, fileFromBytes, lazyHostTree, symlink } from '../../src/fs/tree.js';
import { narDigest } from '../../src/nix/nar.js';
import { nukeReferences, scanReferences } from '../../src/nix/references.js';
import { queryClosure } from '../../src/nix/closure.js';
import { exampleToplevel } from '../helpers/example.js';
import { runOk, tempDir } from '../helpers/run.js';
import { writeFileSync, mkdirSync, symlinkSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

test('narDigest gives the NAR hash and size Nix registered for every path of a closure', async () => {
  const closure = await queryClosure(exampleToplevel('nar-test'));
  assert.ok(closure.registrations.length > 5);
  for (const record of closure.registrations) {
    const digest = await narDigest(lazyHostTree(record.path, { maxTime: 1, uid: 0, gid: 0 }));
    assert.deepEqual(digest, { narHash: record.narHash, narSize: record.narSize }, record.path);
  }
});

test('narDigest of an in-memory tree equals nix hash path of the same tree on disk (executable bit, symlinks, odd names)', async () => {
  const work = tempDir('nar');
  try {
    const meta = { permissions: 0o444, uid: 0, gid: 0, mtime: 1 };
    const names = ['a', 'b space', 'é-latin1', 'z'];
    const tree = dir({ ...meta, permissions: 0o555 }, [
      ['run', fileFromBytes({ ...meta, permissions: 0o555 }, '#!/bin/sh\n')],
      ['data', fileFromBytes(meta, new Uint8Array(13).fill(7))],
      ['empty', fileFromBytes(meta, new Uint8Array())],
      ['link', symlink({ ...meta, permissions: 0o777 }, '../somewhere')],
      ['sub', dir({ ...meta, permissions: 0o555 }, names.map((n) => [Buffer.from(n).toString('latin1'), fileFromBytes(meta, n)]))],
    ]);
    const root = join(work.path, 'tree');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'run'), '#!/bin/sh\n');
    chmodSync(join(root, 'run'), 0o555);
    writeFileSync(join(root, 'data'), new Uint8Array(13).fill(7));
    writeFileSync(join(root, 'empty'), '');
    symlinkSync('../somewhere', join(root, 'link'));
    for (const n of names) writeFileSync(join(root, 'sub', n), n);
    const expected = runOk('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'path', '--type', 'sha256', '--base16', root]).stdout.trim();
    const size = Number(runOk('bash', ['-c', 'nix-store --dump "$1" | wc -c', '-', root]).stdout.trim());
    assert.deepEqual(await narDigest(tree), { narHash: `sha256:${expected}`, narSize: size });
  } finally {
    work.remove();
  }
});

test('nukeReferences replaces every store hash by e\'s, keeping the length; scanReferences finds hashes as Nix does', () => {
  const a = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a';
  const b = '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-b';
  const text = Buffer.from(`x${a}/bin\0${b}\n/nix/store/short-c ${a}`, 'latin1');
  const nuked = Buffer.from(nukeReferences(text));
  assert.equal(nuked.length, text.length);
  assert.equal(nuked.toString('latin1'), `x/nix/store/${'e'.repeat(32)}-a/bin\0/nix/store/${'e'.repeat(32)}-b\n/nix/store/short-c /nix/store/${'e'.repeat(32)}-a`);
  assert.equal(nukeReferences(Buffer.from('no references')).length, 13);
  assert.deepEqual(scanReferences(text, [b, a, '/nix/store/00000000000000000000000000000000-d']), [a, b].sort());
  assert.deepEqual(scanReferences(nuked, [a, b]), []);
});
