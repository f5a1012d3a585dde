/**
 * The store paths a rebuild brings: the record of the last build's paths round-trips
 * through the cache under its scope only; the files of the paths it lacks are listed with
 * their sizes (a path that is a file too), and nothing is listed without a record or when
 * most paths are new.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnitCache } from '../../src/core/unit-cache.js';
import { listNewStorePaths, recordedStorePaths, recordStorePaths } from '../../src/nix/new-paths.js';
import { tempDir } from '../helpers/run.js';

test('the files of the paths the record lacks are listed with their sizes; none without a record or when most are new', () => {
  const tmp = tempDir('new-paths');
  try {
    const store = join(tmp.path, 'store');
    const paths = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((name) => join(store, `${name}-path`));
    for (const path of paths.slice(0, 7)) {
      mkdirSync(join(path, 'sub', 'deeper'), { recursive: true });
      writeFileSync(join(path, 'top'), 'x'.repeat(3));
      writeFileSync(join(path, 'sub', 'deeper', 'inner'), 'y'.repeat(5000));
      symlinkSync('top', join(path, 'link'));
    }
    mkdirSync(store, { recursive: true });
    writeFileSync(paths[7]!, 'a path that is a file');

    const cache = new UnitCache({ directory: join(tmp.path, 'cache'), maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    assert.equal(recordedStorePaths(cache, 'gzip 6'), undefined);
    recordStorePaths(cache, 'gzip 6', paths.slice(0, 6));
    assert.equal(recordedStorePaths(cache, 'zstd 3'), undefined, 'another scope');
    const recorded = recordedStorePaths(cache, 'gzip 6');
    assert.deepEqual([...recorded!].sort(), paths.slice(0, 6));

    const listed = (record: ReadonlySet<string> | undefined, closure = paths): [string, number][] => {
      const files: [string, number][] = [];
      listNewStorePaths(closure, record, (path, size) => files.push([path, size]));
      return files.sort(([a], [b]) => (a < b ? -1 : 1));
    };
    assert.deepEqual(listed(recorded), [
      [join(paths[6]!, 'sub', 'deeper', 'inner'), 5000],
      [join(paths[6]!, 'top'), 3],
      [paths[7]!, 'a path that is a file'.length],
    ]);
    assert.deepEqual(listed(undefined), [], 'no record: a first build');
    assert.deepEqual(listed(new Set(paths.slice(0, 5))), [], 'three of eight new: more than a quarter');
    assert.equal(cache.reuse().units.total, 0, 'the record is not counted as a unit');
    cache.close();
  } finally {
    tmp.remove();
  }
});
