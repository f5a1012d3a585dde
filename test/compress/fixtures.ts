/** Shared fixtures for the compression tests: data, sinks, and the reference tools. */
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import type { CompressingSink } from '../../src/compress/chunked-sink.js';
import { OutputFile } from '../../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../../src/core/sink.js';
import { seededBytes, textBytes } from '../container/fixtures.js';
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
