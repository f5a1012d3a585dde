import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { oneShotEncoder, persistentEncoder } from '../../src/compress/zstd-encoder.js';
import { readFrameHeader, zstdFrameBound } from '../../src/compress/zstd-frame.js';
import { seededBytes } from '../container/fixtures.js';
import { KiB, mixedBlock } from './fixtures.js';

function reference(chunk: Uint8Array, level: number, checksum: boolean): Buffer {
  return zstdCompressSync(chunk, {
    pledgedSrcSize: chunk.length,
    chunkSize: zstdFrameBound(chunk.length),
    params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0 },
  });
}

test('the persistent and the one-shot encoder write Node\'s one-shot frames, frame after frame', () => {
  const persistent = persistentEncoder(3, true);
  assert.ok(persistent !== undefined, 'this Node exposes the zstd engine the persistent encoder drives');
  const chunks = [mixedBlock(1, 200 * KiB), seededBytes(2, 64 * KiB), new Uint8Array(0), mixedBlock(3, 1), mixedBlock(4, 300 * KiB)];
  for (const [name, encode] of [['persistent', persistent], ['one-shot', oneShotEncoder(3, true)]] as const) {
    for (const chunk of chunks) {
      const output = new Uint8Array(zstdFrameBound(chunk.length));
      const length = encode(chunk, output);
      const frame = output.subarray(0, length);
      assert.deepEqual(Buffer.from(frame), reference(chunk, 3, true), `${name} encoder, ${chunk.length} bytes`);
      assert.equal(readFrameHeader(frame).contentSize, chunk.length, 'the content size is in the header');
      assert.deepEqual(zstdDecompressSync(frame), Buffer.from(chunk));
    }
  }
});

test('an output smaller than the frame bound is refused, and the encoder goes on with the next frame', () => {
  for (const [name, encode] of [['persistent', persistentEncoder(5, false)!], ['one-shot', oneShotEncoder(5, false)]] as const) {
    const random = seededBytes(7, 100 * KiB);
    assert.throws(() => encode(random, new Uint8Array(zstdFrameBound(random.length) - 1)), /less than the \d+ a frame of 102400 bytes needs/, `${name} encoder`);
    const next = mixedBlock(8, 100 * KiB);
    const output = new Uint8Array(zstdFrameBound(next.length));
    const length = encode(next, output);
    assert.deepEqual(Buffer.from(output.subarray(0, length)), reference(next, 5, false), `${name} encoder after the failure`);
  }
});
