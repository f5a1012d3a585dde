/** Shared fixtures for the compression tests: data, sinks, and the reference tools. */
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { CompressingSink } from '../../src/compress/chunked-sink.js';
import { ImageError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../../src/core/sink.js';
import { UnitCache } from '../../src/core/unit-cache.js';
import { seededBytes, seededInts, textBytes } from '../container/fixtures.js';
import { run } from '../helpers/run.js';

export const KiB = 1024;
export const MiB = 1 << 20;

/**
 * A 4 MiB block of mixed content: random bytes, text, zeros, a counting pattern and
 * ELF-like structure, in pieces of odd sizes; `variant` changes the bytes throughout.
 */
export function mixedBlock(variant: number, size = 4 * MiB): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (let piece = 0; at < size; piece++) {
    const length = Math.min(size - at, 3000 + ((piece * 7919 + variant * 104729) % 200_000));
    switch ((piece + variant) % 5) {
      case 0: out.set(seededBytes(variant * 1000 + piece + 1, length), at); break;
      case 1: out.set(textBytes(length, `/nix/store/${variant}-piece-${piece} `), at); break;
      case 2: break; // zeros
      case 3: for (let i = 0; i < length; i++) out[at + i] = (i * 31 + piece) & 0xff; break;
      default: for (let i = 0; i < length; i++) out[at + i] = i % 64 < 8 ? (i >> 6) & 0xff : 0x90; break;
    }
    at += length;
  }
  return out;
}

/** Feeds `total` bytes of mixed data to `sink` in writes of `piece` bytes; returns their sha256. */
export async function feedMixed(sink: ByteSink, total: number, piece = 3 * MiB + 5): Promise<string> {
  const hash = createHash('sha256');
  const blocks = [mixedBlock(1), mixedBlock(2), mixedBlock(3)];
  let written = 0;
  let blockIndex = 0;
  let inBlock = 0;
  while (written < total) {
    const block = blocks[blockIndex % blocks.length]!;
    const take = Math.min(piece, total - written, block.length - inBlock);
    const part = block.subarray(inBlock, inBlock + take);
    hash.update(part);
    await sink.write(part);
    written += take;
    inBlock += take;
    if (inBlock === block.length) {
      inBlock = 0;
      blockIndex++;
    }
  }
  return hash.digest('hex');
}

/** Writes `data` to `sink` in pieces of `piece` bytes (the last may be shorter). */
export async function writePieces(sink: ByteSink, data: Uint8Array, piece: number): Promise<void> {
  for (let at = 0; at < data.length; at += piece) await sink.write(data.subarray(at, at + piece));
}

/** Compresses through `make(outputFileSink(file))` into `dir/name`, returning the path. */
export async function compressToFile(
  dir: string, name: string, make: (target: ByteSink) => CompressingSink, feed: (sink: CompressingSink) => Promise<void>,
): Promise<string> {
  const out = OutputFile.create(join(dir, name));
  const sink = make(outputFileSink(out));
  try {
    await feed(sink);
    await sink.close();
    return out.commit();
  } catch (error) {
    await sink.abort();
    out.abort();
    throw error;
  }
}

/** Compresses `total` bytes of mixed data (feedMixed) into `dir/name`; returns the path and the input's sha256. */
export async function compressMixedToFile(dir: string, name: string, make: (target: ByteSink) => CompressingSink, total: number): Promise<{ path: string; input: string }> {
  let input = '';
  const path = await compressToFile(dir, name, make, async (s) => {
    input = await feedMixed(s, total);
  });
  return { path, input };
}

/** A sink that keeps only a hash and a count of what it receives. */
export class HashSink implements ByteSink {
  private readonly hash: Hash = createHash('sha256');
  position = 0;
  closed = false;
  async write(data: Uint8Array): Promise<void> {
    this.hash.update(data);
    this.position += data.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Runs a shell pipeline and returns its stdout; fails the test on a non-zero status. */
export function shell(script: string): string {
  const result = run('bash', ['-o', 'pipefail', '-c', script]);
  assert.equal(result.status, 0, `${script}\nexited ${result.status}\n${result.stderr}`);
  return result.stdout;
}

/** sha256 of a command's stdout, computed by sha256sum. */
export function sha256Of(command: string): string {
  return shell(`${command} | sha256sum`).split(' ')[0]!;
}

/** Writes `data` in pieces of random sizes from 1 byte to 200 KiB, drawn from `seed`. */
export async function writeRandomPieces(sink: ByteSink, data: Uint8Array, seed: number): Promise<void> {
  const next = seededInts(seed);
  for (let at = 0; at < data.length;) {
    const take = Math.min(data.length - at, 1 + next(200 * KiB));
    await sink.write(data.subarray(at, at + take));
    at += take;
  }
}

/** Makes a compressing sink onto `target`; `chunkSize` undefined means the compressor's default. */
export type MakeSink = (target: ByteSink, options: { readonly chunkSize?: number; readonly threads?: number }) => CompressingSink;

/**
 * The compressed bytes depend only on the input bytes: the same for 1-byte, 4 KiB, 3 MiB,
 * chunk-sized and random-sized writes on 1 to 4 threads (with `chunk`-byte chunks), and for
 * 24 MiB in 4 KiB, 3 MiB and 7 MiB + 1 pieces (default chunks). close() closes the target,
 * and the positions count the input and the output.
 */
export async function assertDependsOnlyOnBytes(make: MakeSink, chunk: number): Promise<void> {
  const small = mixedBlock(3, 5 * chunk + 333);
  const digests = new Set<string>();
  for (const [piece, threads] of [[1, 1], [4 * KiB, 2], [3 * MiB, 3], [chunk, 1], [0, 4]] as const) {
    const target = new HashSink();
    const sink = make(target, { chunkSize: chunk, threads });
    if (piece === 0) await writeRandomPieces(sink, small, 11); // 1 byte to 200 KiB
    else await writePieces(sink, small, piece);
    await sink.close();
    assert.ok(target.closed, 'close() closes the target');
    assert.equal(sink.position, small.length);
    assert.equal(sink.compressedPosition, target.position);
    digests.add(target.digest());
  }
  assert.equal(digests.size, 1, 'same bytes for 1-byte, 4 KiB, 3 MiB, chunk-sized and random-sized writes');

  const large = new Set<string>();
  for (const [piece, threads] of [[4 * KiB, 1], [3 * MiB, 4], [7 * MiB + 1, 2]] as const) {
    const target = new HashSink();
    const sink = make(target, { threads });
    await feedMixed(sink, 24 * MiB + 5, piece);
    await sink.close();
    large.add(target.digest());
  }
  assert.equal(large.size, 1, 'same bytes for 24 MiB written in 4 KiB, 3 MiB and 7 MiB pieces');
}

/**
 * Compresses 1 GiB of mixed data in 4 MiB writes and returns the peak RSS growth in MiB,
 * sampled every 20 ms. With `warmUp`, one byte is written before the baseline is taken, so
 * that the start-up of the compressor's workers is not counted.
 */
export async function rssGrowthCompressing1GiB(t: TestContext, make: MakeSink, warmUp: boolean): Promise<number> {
  const target = new HashSink();
  const sink = make(target, {});
  if (warmUp) await sink.write(new Uint8Array(1));
  const before = process.memoryUsage().rss;
  let peak = before;
  const probe = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  try {
    await feedMixed(sink, (1 << 30) - sink.position, 4 * MiB);
    await sink.close();
  } finally {
    clearInterval(probe);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const growth = (peak - before) / MiB;
  t.diagnostic(`RSS growth ${growth.toFixed(1)} MiB`);
  assert.equal(sink.position, 1 << 30);
  assert.equal(target.position, sink.compressedPosition);
  return growth;
}

/**
 * An aborted sink refuses writes and close and leaves its target open (to its owner); a
 * target that fails makes the write or close that reaches it, and every later call, fail.
 */
export async function assertAbortAndTargetFailure(make: MakeSink, chunk: number): Promise<void> {
  const target = new HashSink();
  const aborted = make(target, { chunkSize: chunk });
  await aborted.write(new Uint8Array(10 * chunk));
  await aborted.abort();
  await assert.rejects(aborted.write(new Uint8Array(1)), ImageError);
  await assert.rejects(aborted.close(), ImageError);
  assert.equal(target.closed, false, 'abort leaves the target to its owner');

  const failing: ByteSink = { position: 0, write: async () => { throw new Error('disk full'); }, close: async () => undefined };
  const sink = make(failing, { chunkSize: chunk, threads: 1 });
  // Chunks finished out of order wait for the oldest, so the failure may come only with
  // close(): by then at the latest, and every call after it rethrows it.
  await assert.rejects(writePieces(sink, new Uint8Array(10 * chunk), chunk).then(() => sink.close()), /disk full/);
  await assert.rejects(sink.write(new Uint8Array(1)), /disk full/);
  await assert.rejects(sink.close(), /disk full/);
}

/** Makes a sink with content boundaries of about `unit` bytes through `cache` (or none). */
export type MakeCachedSink = (target: ByteSink, cache: UnitCache | undefined) => CompressingSink;

/**
 * Content boundaries with the unit cache: 3 MiB of mixed data written in random pieces
 * gives the same file with an empty cache, a warm one (every unit found) and none; after
 * 3000 bytes are inserted, the rebuild equals a build without the cache and makes at most
 * 3 units again. `decode` names the reference tool's command that prints a file's content.
 * Returns the plain build's path and its number of units.
 */
export async function assertCachedContentUnits(dir: string, extension: string, make: MakeCachedSink, decode: (path: string) => string): Promise<{ path: string; units: number }> {
  const data = mixedBlock(9, 3 * MiB);
  const at = MiB + 12_345;
  const changed = new Uint8Array(data.length + 3000);
  changed.set(data.subarray(0, at));
  changed.set(mixedBlock(10, 3000), at);
  changed.set(data.subarray(at), at + 3000);
  const warnings: string[] = [];
  const cacheAt = join(dir, 'cache');
  const build = async (name: string, input: Uint8Array, withCache: boolean): Promise<{ path: string; cache: UnitCache | undefined }> => {
    const cache = withCache ? new UnitCache({ directory: cacheAt, maxBytes: 1 << 30, warn: (line) => warnings.push(line) }) : undefined;
    const path = await compressToFile(dir, `${name}.${extension}`, (t) => make(t, cache), (s) => writeRandomPieces(s, input, 3));
    return { path, cache };
  };
  const plain = await build('plain', data, false);
  assert.equal(sha256Of(decode(plain.path)), sha256(data));
  const cold = await build('cold', data, true);
  // Repeated chunks (runs of zeros) are found already in the cold build.
  const units = cold.cache!.hits + cold.cache!.misses;
  assert.ok(units > 20, `${units} units`);
  const warm = await build('warm', data, true);
  assert.equal(sha256(readFileSync(cold.path)), sha256(readFileSync(plain.path)), 'filling the cache changes nothing');
  assert.equal(sha256(readFileSync(warm.path)), sha256(readFileSync(plain.path)), 'the warm cache changes nothing');
  assert.deepEqual([warm.cache!.hits, warm.cache!.misses], [units, 0]);
  const after = await build('after', changed, true);
  const reference = await build('after-plain', changed, false);
  assert.equal(sha256(readFileSync(after.path)), sha256(readFileSync(reference.path)), 'after a change, the same bytes as without the cache');
  assert.equal(sha256Of(decode(after.path)), sha256(changed));
  assert.ok(after.cache!.misses <= 3 && after.cache!.hits >= units - 3, `${after.cache!.hits} hits, ${after.cache!.misses} misses of ${units}`);
  assert.deepEqual(warnings, []);
  return { path: plain.path, units };
}
