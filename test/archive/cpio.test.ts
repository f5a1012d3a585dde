import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCpio } from '../../src/archive/cpio.js';
import { outputFileSink } from '../../src/core/sink.js';
import { lazyHostTree, type DirNode } from '../../src/fs/tree.js';
import { writeTo } from '../helpers/output.js';
import { runOk, tempDir } from '../helpers/run.js';
import { makeTortureTree, snapshotTree } from '../helpers/tree.js';

async function writeTreeCpio(path: string, source: string): Promise<string> {
  const root = lazyHostTree(source, { maxTime: 1, uid: 0, gid: 0 }) as DirNode;
  return writeTo(path, async (out) => {
    const sink = outputFileSink(out);
    await writeCpio(root, sink);
    await sink.close();
  });
}

test('a tree is byte for byte what makeInitrdNG\'s find | sort | cpio -o -H newc -R +0:+0 --reproducible writes', async () => {
  const work = tempDir('cpio-gnu');
  try {
    const source = join(work.path, 'root');
    mkdirSync(join(source, 'nix/store/abc-squashfs'), { recursive: true });
    mkdirSync(join(source, 'run'));
    mkdirSync(join(source, 'var/empty'), { recursive: true });
    writeFileSync(join(source, 'nix/store/abc-squashfs/img'), Buffer.alloc(70_001, 3));
    symlinkSync('/nix/store/abc-squashfs/img', join(source, 'nix-store.squashfs'));
    symlinkSync('../run', join(source, 'var/run'));
    writeFileSync(join(source, 'a-b'), 'sorted before a/ as a full path\n');
    mkdirSync(join(source, 'a'));
    writeFileSync(join(source, 'a/x'), 'x\n');
    linkSync(join(source, 'a/x'), join(source, 'a/y'));
    writeFileSync(join(source, 'empty'), '');
    chmodSync(join(source, 'a'), 0o555);
    runOk('bash', ['-c', 'find . -exec touch -h -d @1 {} +'], { cwd: source });
    const ours = await writeTreeCpio(join(work.path, 'ours.cpio'), source);
    const theirs = join(work.path, 'theirs.cpio');
    runOk('bash', ['-c', `find . -print0 | LC_ALL=C sort -z | cpio -o -H newc -R +0:+0 --reproducible --null --quiet > ${theirs}`], { cwd: source });
    chmodSync(join(source, 'a'), 0o755);
    assert.equal(runOk('cpio', ['-itv', '--quiet', '-F', ours]).stdout, runOk('cpio', ['-itv', '--quiet', '-F', theirs]).stdout);
    assert.ok(readFileSync(ours).equals(readFileSync(theirs)), 'same bytes as GNU cpio');
  } finally {
    work.remove();
  }
});

test('the torture tree round-trips through cpio -i: names, modes, symlinks, hard links', async () => {
  const work = tempDir('cpio-torture');
  try {
    const source = join(work.path, 'source');
    makeTortureTree(source, { bigDirEntries: 500 });
    const archive = await writeTreeCpio(join(work.path, 'tree.cpio'), source);
    const extracted = join(work.path, 'extracted');
    mkdirSync(extracted);
    runOk('cpio', ['-idm', '--quiet', '-F', archive], { cwd: extracted });
    assert.deepEqual(snapshotTree(extracted), snapshotTree(source));
  } finally {
    work.remove();
  }
});

test('a file of 4 GiB is refused with one line naming it (newc sizes are 32 bits), and no archive is left', async () => {
  const work = tempDir('cpio-too-large');
  try {
    const source = join(work.path, 'root');
    mkdirSync(join(source, 'share'), { recursive: true });
    writeFileSync(join(source, 'share/just-fits'), '');
    truncateSync(join(source, 'share/just-fits'), 2 ** 32 - 1);
    writeFileSync(join(source, 'share/too-large'), '');
    truncateSync(join(source, 'share/too-large'), 2 ** 32);
    const archive = join(work.path, 'initrd.cpio');
    await assert.rejects(writeTreeCpio(archive, source), {
      code: 'cpio.file-too-large',
      message: 'Cannot store "share/too-large" in a cpio newc archive: it is 4294967296 bytes, and newc records sizes below 4 GiB',
    });
    assert.ok(!existsSync(archive), 'no partial archive');
  } finally {
    work.remove();
  }
});
