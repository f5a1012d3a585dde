/** The cache flags: --cache with and without its directory, --cache-size's units, --cache-clear, and their errors as one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArguments, parseCacheSize } from '../../src/cli/options.js';
import { UsageError } from '../../src/core/errors.js';
import { CACHE_LAYOUT } from '../../src/core/unit-cache.js';
import { CLI } from '../helpers/example.js';
import { run, tempDir } from '../helpers/run.js';

test('--cache takes a directory when one follows, or stands alone for the default one', () => {
  assert.equal(parseArguments(['-f', 'iso']).cache, undefined);
  assert.equal(parseArguments(['--cache', '-f', 'iso']).cache, null);
  assert.equal(parseArguments(['-f', 'iso', '--cache']).cache, null);
  assert.equal(parseArguments(['--cache', 'dir', '-f', 'iso']).cache, 'dir');
  assert.equal(parseArguments(['--cache=-odd', '-f', 'iso']).cache, '-odd');
  assert.deepEqual(parseArguments(['--cache', '--run', '-f', 'iso', '--', '-m', '2048']).qemuArguments, ['-m', '2048']);
  assert.equal(parseArguments(['--cache-clear']).cacheClear, true);
  assert.equal(parseArguments(['--cache', 'dir', '--cache-size', '2G', '-f', 'iso']).cacheSize, 2 * 2 ** 30);
});

test('--cache-size reads bytes and K, M, G, T, with or without "iB"', () => {
  assert.equal(parseCacheSize('1048576'), 1 << 20);
  assert.equal(parseCacheSize('500M'), 500 * 2 ** 20);
  assert.equal(parseCacheSize('10GiB'), 10 * 2 ** 30);
  assert.equal(parseCacheSize('1.5t'), 1.5 * 2 ** 40);
  for (const bad of ['', '0', 'ten', '10X', '-1G']) assert.throws(() => parseCacheSize(bad), (e: unknown) => e instanceof UsageError && e.code === 'cli.cache-size', bad);
});

test('cache flags that cannot apply are refused with one line', () => {
  assert.throws(() => parseArguments(['--cache-size', '1G', '-f', 'iso']), /Option --cache-size only applies with --cache/);
  assert.throws(() => parseArguments(['--cache=', '-f', 'iso']), /Option --cache= needs a directory/);
  const result = run('node', [CLI, '--cache', 'x', '--cache-size', 'lots', '-f', 'iso']);
  assert.equal(result.status, 2);
  assert.equal(result.stderr, 'nixos-generate: error: Invalid --cache-size "lots"; give a size such as 10G, 500M or a number of bytes\n');
});

test('--cache-clear alone empties the cache and leaves the rest of its directory', () => {
  const tmp = tempDir('cache-clear');
  try {
    const entry = join(tmp.path, CACHE_LAYOUT, 'ab', 'cdef');
    mkdirSync(join(tmp.path, CACHE_LAYOUT, 'ab'), { recursive: true });
    writeFileSync(entry, 'x');
    writeFileSync(join(tmp.path, 'mine'), 'kept');
    const result = run('node', [CLI, '--cache', tmp.path, '--cache-clear']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(existsSync(entry), false);
    assert.equal(existsSync(join(tmp.path, 'mine')), true);
    // The default directory, under XDG_CACHE_HOME.
    const base = join(tmp.path, 'xdg');
    mkdirSync(join(base, 'nixos-generate', 'unit-cache', CACHE_LAYOUT), { recursive: true });
    assert.equal(run('node', [CLI, '--cache-clear'], { env: { ...process.env, XDG_CACHE_HOME: base } }).status, 0);
    assert.equal(existsSync(join(base, 'nixos-generate', 'unit-cache', CACHE_LAYOUT)), false);
  } finally {
    tmp.remove();
  }
});
