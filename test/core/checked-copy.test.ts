/**
 * Checked copies of cache entries into outputs: an entry's head comes from the cache with
 * the rest of its payload left on disk; an output copies that rest, on its digest's thread
 * or the copy worker when it hashes itself (the SHA-256 is the file's), on the calling
 * thread otherwise. A rest
 * that fails its check, or is gone, is never written and the failure names the entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckedCopyFailed, type CheckedRange } from '../../src/core/checked-copy.js';
import { OutputFile } from '../../src/core/output-file.js';
import { UnitCache } from '../../src/core/unit-cache.js';
import { tempDir } from '../helpers/run.js';

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 17 + (i >> 9)) & 0xff);
}

function cacheWith(directory: string, payloads: readonly Uint8Array[]): { cache: UnitCache; keys: Buffer[]; warnings: string[] } {
  const warnings: string[] = [];
  const cache = new UnitCache({ directory, maxBytes: 1 << 30, warn: (line) => warnings.push(line) });
  const keys = payloads.map((_, i) => UnitCache.key('checked copy test 1', bytes(32, i)));
  payloads.forEach((payload, i) => cache.put(keys[i]!, { kind: 'compressed', bytes: payload }));
  return { cache, keys, warnings };
}

/**
 * Writes `before`, each entry's rest (after a 12-byte head) and `after` into a new output,
 * the rests in file order or last first; returns the output and what it should hold.
 */
async function copyInto(directory: string, cache: UnitCache, keys: readonly Buffer[], sha256: boolean, order: 'in order' | 'last first' = 'in order'): Promise<{ out: OutputFile; expected: Buffer }> {
  const out = OutputFile.create(join(directory, `image-${sha256 ? 'hashed' : 'plain'}`), { sha256 });
  const before = bytes(5000, 99);
  const after = bytes(777, 98);
  const parts: Uint8Array[] = [before];
  out.writeAt(0, before);
  let position = before.length;
  const copies: { position: number; rest: CheckedRange }[] = [];
  for (const key of keys) {
    const found = cache.head(key, 'test', 12);
    assert.ok(found !== undefined);
    const entry = cache.get(key);
    assert.ok(entry?.kind === 'compressed');
    assert.deepEqual(found.head, entry.bytes.subarray(0, 12));
    copies.push({ position, rest: found.rest });
    parts.push(entry.bytes.subarray(12));
    position += found.rest.length;
  }
  if (order === 'last first') copies.reverse();
  for (const copy of copies) out.copyAt(copy.position, copy.rest);
  out.writeAt(position, after);
  parts.push(after);
  return { out, expected: Buffer.concat(parts) };
}

test('entries copied through an output that hashes itself (by both copying threads): the file and its SHA-256 are those of the bytes', async () => {
  const tmp = tempDir('checked-copy');
  try {
    const sizes = [300_000, 12, 2_500_000, 40, 70_000, 1_000_000, 13];
    const { cache, keys, warnings } = cacheWith(join(tmp.path, 'cache'), sizes.map((size, i) => bytes(size, i + 1)));
    for (const sha256 of [true, false]) {
      const { out, expected } = await copyInto(tmp.path, cache, keys, sha256);
      const digest = await out.sha256();
      const path = out.commit();
      assert.deepEqual(readFileSync(path), expected);
      assert.equal(digest.sha256, createHash('sha256').update(expected).digest('hex'));
      assert.equal(digest.readBack, sha256 ? 0 : expected.length, 'hashed in passing, copies too');
    }
    // Out of file order: hashed by reading back once every copy is written.
    const { out, expected } = await copyInto(tmp.path, cache, keys, true, 'last first');
    const digest = await out.sha256();
    assert.deepEqual(readFileSync(out.commit()), expected);
    assert.equal(digest.sha256, createHash('sha256').update(expected).digest('hex'));
    // The first entry's copy, asked for last, is next in order after `before`: hashed in passing.
    assert.equal(digest.readBack, expected.length - 5000 - (sizes[0]! - 12), 'read back from the first copy out of order');
    assert.deepEqual(warnings, []);
  } finally {
    tmp.remove();
  }
});

test('a damaged or vanished entry is not written: the output fails naming it, and discard() reports and removes it', async () => {
  const tmp = tempDir('checked-copy');
  try {
    const cacheDir = join(tmp.path, 'cache');
    const { cache, keys, warnings } = cacheWith(cacheDir, [bytes(200_000, 1), bytes(100_000, 2), bytes(150_000, 3)]);
    const files = keys.map((key) => UnitCache.entryFile(cacheDir, key));
    const found = keys.map((key) => cache.head(key, 'test', 12)!);
    const damaged = readFileSync(files[0]!);
    damaged[damaged.length - 1000]! ^= 0x04;
    writeFileSync(files[0]!, damaged);
    rmSync(files[2]!);

    const hashed = OutputFile.create(join(tmp.path, 'hashed'), { sha256: true });
    let position = 0;
    for (const { rest } of found) {
      hashed.copyAt(position, rest);
      position += rest.length;
    }
    const failure = await hashed.sha256().then(() => undefined, (error: unknown) => error);
    assert.ok(failure instanceof CheckedCopyFailed, String(failure));
    assert.deepEqual(failure.failures, [{ path: files[0], reason: 'damaged' }, { path: files[2], reason: 'unreadable' }]);
    const written = readFileSync(hashed.temporaryPath);
    const good = cache.get(keys[1]!);
    assert.ok(good?.kind === 'compressed');
    assert.deepEqual(written.subarray(found[0]!.rest.length, found[0]!.rest.length + good.bytes.length - 12), good.bytes.subarray(12), 'the good entry is written');
    assert.ok(written.subarray(0, found[0]!.rest.length).every((byte) => byte === 0), 'nothing of the damaged one is');
    hashed.abort();
    assert.equal(existsSync(hashed.temporaryPath), false);

    const plain = OutputFile.create(join(tmp.path, 'plain'));
    assert.throws(() => plain.copyAt(0, found[0]!.rest), (error: unknown) => error instanceof CheckedCopyFailed && error.failures[0]!.reason === 'damaged');
    plain.abort();

    cache.discard(failure);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^nixos-generate: warning: ignored the damaged cache entry ".*" \(its checksum does not match\); it is rebuilt$/);
    assert.equal(existsSync(files[0]!), false);
    assert.deepEqual(readdirSync(tmp.path).sort(), ['cache']);
  } finally {
    tmp.remove();
  }
});

test("an entry's head is checked where it is looked up: a wrong length or key is a miss", () => {
  const tmp = tempDir('checked-copy');
  try {
    const cacheDir = join(tmp.path, 'cache');
    const { cache, keys, warnings } = cacheWith(cacheDir, [bytes(5000, 1), bytes(6000, 2)]);
    const [first, second] = keys.map((key) => UnitCache.entryFile(cacheDir, key));
    writeFileSync(first!, readFileSync(first!).subarray(0, 4000)); // torn
    const otherKey = readFileSync(second!);
    otherKey[20]! ^= 0xff;
    writeFileSync(second!, otherKey);
    assert.equal(cache.head(keys[0]!, 'test', 12), undefined);
    assert.equal(cache.head(keys[1]!, 'test', 12), undefined);
    assert.equal(cache.head(UnitCache.key('absent', bytes(32, 9)), 'test', 12), undefined);
    assert.deepEqual([cache.hits, cache.misses], [0, 3]);
    assert.equal(warnings.length, 1, 'reported once');
  } finally {
    tmp.remove();
  }
});
