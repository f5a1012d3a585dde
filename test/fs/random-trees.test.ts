/**
 * Random trees through the filesystem writers (ext4, FAT, squashfs, ISO 9660), each read
 * back by its reference tools and compared with the source byte for byte: a fixed set of
 * seeds here, any number with bench/soak.ts. The comparison itself is tested first, on
 * trees changed in each way it must notice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareMetadata, compareSnapshots, generateTree, snapshotBytes, type MetadataListing } from '../helpers/random-tree.js';
import { ROUND_TRIP_WRITERS } from '../helpers/round-trip.js';
import { roundTripTests } from '../helpers/round-trip-tests.js';
import { tempDir } from '../helpers/run.js';

test('the comparison notices a changed byte, mode, link target, name, extra entry and split hard link', () => {
  const work = tempDir('random-compare');
  try {
    const profile = ROUND_TRIP_WRITERS.find((w) => w.name === 'tar')!.profile;
    const source = join(work.path, 'source');
    const summary = generateTree(source, 7, { ...profile, hugeSizes: [] }, { scale: 0.001 });
    assert.ok(summary.files > 5 && summary.symlinks > 0 && summary.hardLinks > 0, 'the tree has files, symlinks and hard links');
    const expected = snapshotBytes(source);
    const options = { modeMask: 0o7777, hardLinks: true };
    assert.deepEqual(compareSnapshots(expected, snapshotBytes(source), options), [], 'a tree equals itself');

    const pathOf = (type: string, predicate: (size: number) => boolean = () => true): string =>
      [...expected].find(([p, e]) => p !== '' && e.type === type && predicate(e.size))![0];
    const changed = (change: (copy: string) => void): string[] => {
      const copy = join(work.path, `copy-${readdirSync(work.path).length}`);
      cpSync(source, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      change(copy);
      return compareSnapshots(expected, snapshotBytes(copy), options);
    };
    const inCopy = (copy: string, rel: string): Buffer => Buffer.concat([Buffer.from(`${copy}/`), Buffer.from(rel, 'latin1')]);
    // cpSync keeps no hard links: the copy reports every link group as split.
    const splits = changed(() => {});
    assert.ok(splits.length > 0 && splits.every((p) => /are not one file/.test(p)), splits.join('\n'));

    const file = pathOf('file', (size) => size > 0 && size < 1 << 20);
    assert.ok(changed((copy) => {
      const bytes = readFileSync(inCopy(copy, file));
      bytes[bytes.length - 1]! ^= 1;
      writeFileSync(inCopy(copy, file), bytes);
    }).some((p) => /has other contents/.test(p)));
    assert.ok(changed((copy) => chmodSync(inCopy(copy, file), 0o640)).some((p) => /has mode 640/.test(p)));
    const link = pathOf('symlink');
    assert.ok(changed((copy) => { unlinkSync(inCopy(copy, link)); symlinkSync('elsewhere', inCopy(copy, link)); }).some((p) => /has other target/.test(p)));
    assert.ok(changed((copy) => writeFileSync(join(copy, 'not-in-the-tree'), '')).some((p) => /"not-in-the-tree" was not in the tree/.test(p)));
    assert.ok(changed((copy) => unlinkSync(inCopy(copy, file))).some((p) => /is missing/.test(p)));

    // A tool's listing: a wrong mode, and two names of one file listed as different inodes.
    const listing: MetadataListing = new Map([...expected].filter(([p]) => p !== '').map(([p, e]) => [p, { mode: e.mode, inode: e.inode }]));
    assert.deepEqual(compareMetadata(expected, listing), []);
    const group = [...expected].filter(([, e]) => e.type === 'file').find(([p, e]) => [...expected].some(([q, f]) => q !== p && f.inode === e.inode))![0];
    const broken: MetadataListing = new Map(listing);
    broken.set(group, { mode: 0o4755, inode: 'elsewhere' });
    const problems = compareMetadata(expected, broken);
    assert.ok(problems.some((p) => /listed with mode 4755/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /not the same inode as its hard links/.test(p)), problems.join('\n'));
  } finally {
    work.remove();
  }
});

roundTripTests(['ext4', 'fat', 'squashfs', 'iso9660']);
