/**
 * The unit cache on real files: entries round-trip, a damaged entry is ignored, reported
 * once and rebuilt, the size bound evicts least recently used entries first, two processes
 * writing the same keys at once leave only whole entries, and a full filesystem turns
 * writing off with one note instead of failing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_LAYOUT, clearUnitCache, LARGE_CHUNK, UnitCache, writeEntryFile } from '../../src/core/unit-cache.js';
import { runOk, tempDir } from '../helpers/run.js';

function entryFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

function open(directory: string, maxBytes = 1 << 30): { cache: UnitCache; warnings: string[] } {
  const warnings: string[] = [];
  return { cache: new UnitCache({ directory, maxBytes, warn: (line) => warnings.push(line) }), warnings };
}

const key = (n: number, settings = 'test 1'): Buffer => UnitCache.key(settings, bytes(32, n));

test('an entry comes back as it was put, under its key and settings only', () => {
  const tmp = tempDir('unit-cache');
  try {
    const { cache, warnings } = open(tmp.path);
    assert.equal(cache.get(key(1)), undefined);
    cache.put(key(1), { kind: 'compressed', bytes: bytes(1000, 1) });
    cache.put(key(2), { kind: 'stored' });
    assert.deepEqual(cache.get(key(1)), { kind: 'compressed', bytes: Buffer.from(bytes(1000, 1)) });
    assert.deepEqual(cache.get(key(2)), { kind: 'stored' });
    assert.equal(cache.get(key(1, 'test 2')), undefined, 'other settings, another key');
    assert.deepEqual([cache.hits, cache.misses], [2, 2]);
    cache.close();
    assert.deepEqual(warnings, []);
    clearUnitCache(tmp.path);
    assert.equal(open(tmp.path).cache.get(key(1)), undefined, 'cleared');
  } finally {
    tmp.remove();
  }
});

test('a damaged entry is ignored, reported once on stderr, and rebuilt', () => {
  const tmp = tempDir('unit-cache');
  try {
    const first = open(tmp.path);
    for (const n of [1, 2, 3]) first.cache.put(key(n), { kind: 'compressed', bytes: bytes(4096, n) });
    first.cache.close();
    const files = entryFiles(tmp.path);
    assert.equal(files.length, 3);
    // A flipped bit in one, a torn (truncated) write in another.
    const flipped = readFileSync(files[0]!);
    flipped[flipped.length - 100]! ^= 1;
    writeFileSync(files[0]!, flipped);
    writeFileSync(files[1]!, readFileSync(files[1]!).subarray(0, 2000));
    const second = open(tmp.path);
    const found = [1, 2, 3].map((n) => second.cache.get(key(n)));
    assert.equal(found.filter((u) => u === undefined).length, 2);
    assert.equal(second.warnings.length, 1, second.warnings.join('\n'));
    assert.match(second.warnings[0]!, /^nixos-generate: warning: ignored the damaged cache entry ".*" \(its checksum does not match\); it is rebuilt$/);
    for (const n of [1, 2, 3]) if (found[n - 1] === undefined) second.cache.put(key(n), { kind: 'compressed', bytes: bytes(4096, n) });
    second.cache.close();
    assert.equal(second.warnings.length, 2);
    assert.match(second.warnings[1]!, /^nixos-generate: warning: 1 more damaged cache entries were ignored and rebuilt$/);
    const third = open(tmp.path);
    for (const n of [1, 2, 3]) assert.deepEqual(third.cache.get(key(n)), { kind: 'compressed', bytes: Buffer.from(bytes(4096, n)) });
    assert.deepEqual(third.warnings, []);
  } finally {
    tmp.remove();
  }
});

test('the size bound removes the least recently used entries first', () => {
  const tmp = tempDir('unit-cache');
  try {
    const setup = open(tmp.path);
    for (const n of [1, 2, 3, 4]) setup.cache.put(key(n), { kind: 'compressed', bytes: bytes(10_000, n) });
    setup.cache.close();
    const entrySize = statSync(entryFiles(tmp.path)[0]!).size;
    // Ages: 1 is the oldest, 4 the newest; then 1 is read, which makes it the newest.
    const now = Date.now() / 1000;
    for (const n of [1, 2, 3, 4]) {
      const hex = key(n).toString('hex');
      utimesSync(join(tmp.path, CACHE_LAYOUT, hex.slice(0, 2), hex.slice(2)), now - 1000 + n * 100, now - 1000 + n * 100);
    }
    const { cache } = open(tmp.path, 3 * entrySize);
    assert.notEqual(cache.get(key(1)), undefined);
    cache.put(key(5), { kind: 'compressed', bytes: bytes(10_000, 5) });
    cache.close();
    const total = entryFiles(tmp.path).reduce((sum, f) => sum + statSync(f).size, 0);
    assert.ok(total <= 3 * entrySize, `${total} bytes left`);
    const left = open(tmp.path).cache;
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => left.get(key(n)) !== undefined), [true, false, false, true, true]);
  } finally {
    tmp.remove();
  }
});

test('two processes writing the same entries at once leave only whole entries and no temporary files', async () => {
  const tmp = tempDir('unit-cache');
  try {
    const module = new URL('../../src/core/unit-cache.js', import.meta.url).href;
    const script = `
      import { UnitCache } from ${JSON.stringify(module)};
      const cache = new UnitCache({ directory: process.argv[1], maxBytes: 1 << 30, warn: (l) => { console.error(l); process.exitCode = 3; } });
      for (let round = 0; round < 5; round++) {
        for (let n = 0; n < 200; n++) {
          const seed = Uint8Array.from({ length: 32 }, (_, i) => (i * 31 + n * 7) & 0xff);
          const key = UnitCache.key('test 1', seed);
          const unit = cache.get(key);
          if (unit !== undefined && (unit.kind !== 'compressed' || unit.bytes.length !== 65536 + n || unit.bytes[n] !== n % 251)) { console.error('bad entry', n); process.exit(4); }
          const bytes = new Uint8Array(65536 + n).fill(n % 251);
          cache.put(key, { kind: 'compressed', bytes });
        }
      }
      cache.close();
    `;
    const runWriter = (): Promise<number> => new Promise((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, tmp.path], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('exit', (code) => resolve(code ?? -1));
    });
    assert.deepEqual(await Promise.all([runWriter(), runWriter()]), [0, 0]);
    const files = entryFiles(tmp.path);
    assert.equal(files.length, 200);
    assert.deepEqual(files.filter((f) => f.includes('.tmp-')), []);
    const { cache, warnings } = open(tmp.path);
    for (let n = 0; n < 200; n++) {
      const unit = cache.get(key(n));
      assert.ok(unit?.kind === 'compressed' && unit.bytes.length === 65536 + n, `entry ${n}`);
    }
    assert.deepEqual(warnings, []);
  } finally {
    tmp.remove();
  }
});

/** Runs `check` on a tmpfs of 1 MiB (in `tmp`), unmounted after. */
function onSmallTmpfs(tmp: string, check: (mount: string) => void): void {
  const mount = join(tmp, 'small');
  mkdirSync(mount);
  runOk('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
  try {
    check(mount);
  } finally {
    runOk('umount', [mount]);
  }
}

test('a full filesystem turns writing off with one note and never throws', () => {
  const tmp = tempDir('unit-cache');
  try {
    onSmallTmpfs(tmp.path, (mount) => {
      const { cache, warnings } = open(mount);
      for (let n = 0; n < 40; n++) cache.put(key(n), { kind: 'compressed', bytes: bytes(100_000, n) });
      cache.close();
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /^nixos-generate: warning: cannot write to the cache ".*": ENOSPC; the build goes on without adding to it$/);
      assert.deepEqual(entryFiles(mount).filter((f) => f.includes('.tmp-')), [], 'the torn temporary file is removed');
      assert.ok(cache.bytesWritten > 0 && cache.bytesWritten < 1 << 20);
    });
  } finally {
    tmp.remove();
  }
});

/** A large entry's payload read back chunk by chunk, or undefined at the first damaged chunk. */
function readLarge(cache: UnitCache, k: Buffer): Uint8Array | undefined | 'absent' {
  const entry = cache.openLarge(k);
  if (entry === undefined) return 'absent';
  try {
    const out = new Uint8Array(entry.length);
    const chunk = new Uint8Array(LARGE_CHUNK);
    for (let index = 0, at = 0; at < entry.length; index++) {
      const size = entry.readChunk(index, chunk);
      if (size === undefined) return undefined;
      out.set(chunk.subarray(0, size), at);
      at += size;
    }
    return out;
  } finally {
    entry.close();
  }
}

test('a large entry is written and read a chunk at a time, and a damaged chunk or header is caught', () => {
  const tmp = tempDir('unit-cache');
  try {
    const { cache, warnings } = open(tmp.path);
    const payload = bytes(2 * LARGE_CHUNK + 12_345, 5);
    const fills: number[] = [];
    cache.putLarge(key(1), payload.length, (offset, into, length) => {
      fills.push(length);
      into.set(payload.subarray(offset, offset + length));
    });
    assert.deepEqual(fills, [LARGE_CHUNK, LARGE_CHUNK, 12_345], 'never more than a chunk at a time');
    cache.putLarge(key(2), 0, () => assert.fail('an empty payload has no chunk'));
    assert.deepEqual(readLarge(cache, key(1)), payload);
    assert.deepEqual(readLarge(cache, key(2)), new Uint8Array(0));
    assert.equal(readLarge(cache, key(3)), 'absent');
    const [file] = entryFiles(tmp.path).filter((f) => readFileSync(f).length > 2 * LARGE_CHUNK);
    const damaged = readFileSync(file!);
    damaged[56 + LARGE_CHUNK + 7]! ^= 0x10;
    writeFileSync(file!, damaged);
    assert.equal(readLarge(cache, key(1)), undefined, 'the second chunk fails its CRC');
    damaged[56 + LARGE_CHUNK + 7]! ^= 0x10;
    damaged[20]! ^= 0x01;
    writeFileSync(file!, damaged);
    assert.equal(readLarge(cache, key(1)), 'absent', 'a header that does not match its digest');
    assert.equal(warnings.length, 1, 'reported once');
    assert.match(warnings[0]!, /damaged cache entry/);
  } finally {
    tmp.remove();
  }
});

test('a large entry on a full filesystem turns writing off with one note; what its producer throws is thrown', () => {
  const tmp = tempDir('unit-cache');
  try {
    onSmallTmpfs(tmp.path, (mount) => {
      const { cache, warnings } = open(mount);
      cache.putLarge(key(1), 3 * LARGE_CHUNK, (_offset, into, length) => into.fill(7, 0, length));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /: ENOSPC; the build goes on without adding to it$/);
      assert.deepEqual(entryFiles(mount), [], 'the torn temporary file is removed');
    });
    const other = open(tmp.path);
    assert.throws(() => other.cache.putLarge(key(2), 10, () => { throw new Error('cannot read the output back'); }), /cannot read the output back/);
    assert.deepEqual(other.warnings, []);
    assert.deepEqual(entryFiles(tmp.path).filter((f) => f.includes('.tmp-')), []);
  } finally {
    tmp.remove();
  }
});

test('a group-writable cache directory (shared by build users) keeps what is written in it group-writable, whatever the umask', () => {
  const tmp = tempDir('unit-cache');
  try {
    const shared = join(tmp.path, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o2770);
    const { cache, warnings } = open(shared);
    cache.put(key(1), { kind: 'compressed', bytes: bytes(100, 1) });
    cache.putLarge(key(2), 10, (_offset, into, length) => into.fill(1, 0, length));
    const modes = readdirSync(shared, { recursive: true, withFileTypes: true }).map((e) => [e.isDirectory(), statSync(join(e.parentPath, e.name)).mode & 0o7777] as const);
    assert.ok(modes.length >= 4, `${modes.length} entries`);
    for (const [isDirectory, mode] of modes) assert.equal(mode, isDirectory ? 0o2770 : 0o660);
    assert.deepEqual(warnings, []);
    const plain = join(tmp.path, 'plain');
    mkdirSync(plain, 0o755);
    open(plain).cache.put(key(1), { kind: 'stored' });
    const files = entryFiles(plain);
    assert.equal(statSync(files[0]!).mode & 0o777, 0o644 & ~process.umask());
  } finally {
    tmp.remove();
  }
});

test('an entry another thread writes (reserve, writeEntryFile, adopt) is found as put() would keep it; a failed write turns writing off with one note; one never written leaves nothing', () => {
  const tmp = tempDir('unit-cache');
  try {
    const { cache, warnings } = open(tmp.path);
    const payload = bytes(70_000, 7);
    const temporary = cache.reserve(key(1));
    assert.ok(temporary !== undefined);
    const size = writeEntryFile(temporary, key(1), [payload.subarray(0, 1000), payload.subarray(1000)]);
    cache.adopt(key(1), temporary, size);
    const found = cache.get(key(1));
    assert.ok(found?.kind === 'compressed');
    assert.deepEqual(Buffer.from(found.bytes), Buffer.from(payload));
    assert.equal(cache.bytesWritten, size);

    cache.adopt(key(2), cache.reserve(key(2))!, undefined); // taken back before it was made
    assert.equal(cache.has(key(2)), false);
    assert.deepEqual(warnings, []);

    const failed = cache.reserve(key(3))!;
    writeFileSync(failed, 'a torn write');
    cache.adopt(key(3), failed, 'ENOSPC');
    assert.equal(cache.has(key(3)), false);
    assert.equal(cache.reserve(key(4)), undefined, 'writing is off');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot write to the cache ".*": ENOSPC; the build goes on without adding to it$/);
    assert.deepEqual(entryFiles(tmp.path).filter((name) => name.includes('.tmp-')), [], 'no temporary file left');
    assert.equal(entryFiles(tmp.path).length, 1);
    cache.close();
  } finally {
    tmp.remove();
  }
});
