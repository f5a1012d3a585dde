import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { OutputFile } from '../../src/core/output-file.js';
import { outputFileSink } from '../../src/core/sink.js';
import { gzipSink, type GzipOptions } from '../../src/archive/gzip.js';
import { runOk, tempDir } from '../helpers/run.js';
import { seededBytes, seededInts, textBytes } from '../container/fixtures.js';

const KiB = 1024;

/** Gzips `data`, fed in pieces of the sizes `next` draws, into a file; returns the file bytes. */
async function gzipFile(path: string, data: Uint8Array, options: GzipOptions, next: (bound: number) => number): Promise<Buffer> {
  const out = OutputFile.create(path);
  const sink = gzipSink(outputFileSink(out), options);
  for (let at = 0; at < data.length;) {
    const take = Math.min(data.length - at, 1 + next(200 * KiB));
    await sink.write(data.subarray(at, at + take));
    at += take;
  }
  await sink.close();
  assert.equal(sink.position, data.length);
  out.commit();
  return readFileSync(path);
}

test('parallel gzip is one ordinary gzip member that gzip, Python and zlib read back', async () => {
  const dir = tempDir('gzip');
  try {
    const chunkSize = 64 * KiB;
    const mixed = new Uint8Array(1_000_003);
    mixed.set(textBytes(400_000, 'compressible text '), 0);
    mixed.set(seededBytes(5, 300_000), 450_000);
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['one', Uint8Array.of(42)],
      ['chunk-minus-1', textBytes(chunkSize - 1)],
      ['chunk', seededBytes(6, chunkSize)],
      ['chunk-plus-1', textBytes(chunkSize + 1)],
      ['mixed', mixed],
    ];
    for (const [name, data] of cases) {
      const path = join(dir.path, `${name}.gz`);
      const bytes = await gzipFile(path, data, { chunkSize, depth: 3 }, seededInts(name.length));
      assert.deepEqual(gunzipSync(bytes), Buffer.from(data), name);
      // One member: the raw DEFLATE stream between the 10-byte header and the 8-byte trailer is complete.
      assert.deepEqual(inflateRawSync(bytes.subarray(10, bytes.length - 8)), Buffer.from(data), `${name}: single member`);
      runOk('gzip', ['-t', path]);
      const digest = runOk('python3', ['-c', 'import gzip, hashlib, sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())', path]).stdout.trim();
      assert.equal(digest, runOk('sha256sum', ['-'], { input: data }).stdout.split(' ')[0], name);
    }
  } finally {
    dir.remove();
  }
});

test('the output depends only on the bytes, not on how they were written', async () => {
  const dir = tempDir('gzip');
  try {
    const data = new Uint8Array(3_000_000);
    data.set(textBytes(1_000_000, 'abc '), 0);
    data.set(seededBytes(8, 1_000_000), 1_500_000);
    const a = await gzipFile(join(dir.path, 'a.gz'), data, {}, seededInts(1));
    const b = await gzipFile(join(dir.path, 'b.gz'), data, { depth: 1 }, seededInts(2));
    assert.deepEqual(a, b);
    const level9 = await gzipFile(join(dir.path, 'c.gz'), data, { level: 9 }, seededInts(3));
    assert.deepEqual(gunzipSync(level9), Buffer.from(data));
    assert.throws(() => gzipSink(outputFileSink(OutputFile.create(join(dir.path, 'd.gz'))), { level: 10 }), /gzip level 10/);
  } finally {
    dir.remove();
  }
});
