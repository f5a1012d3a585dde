/**
 * Shared fixtures for the container tests: seeded data, images (random segments, the three
 * kinds of source, sparse and odd-sized ones, images that count their reads), output files
 * as the CLI owns them, option-error and memory checks, and the qemu-img checks of qcow2.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bytesSegment, imageFromSegments, lazySegment, type BlockImage, type Segment } from '../../src/core/block-image.js';
import { ImageError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../../src/core/sink.js';
import type { FileIdentity } from '../../src/core/described-spans.js';
import { UnitCache } from '../../src/core/unit-cache.js';
import type { CompressingSink } from '../../src/compress/chunked-sink.js';
import { writeRaw } from '../../src/container/raw.js';
import { writeTo } from '../helpers/output.js';
import { run, runOk } from '../helpers/run.js';

const MiB = 1 << 20;

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function seededBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed | 0) || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Deterministic integers in [0, bound). */
export function seededInts(seed: number): (bound: number) => number {
  let x = (seed | 0) || 0x2545f491;
  return (bound) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % bound;
  };
}

/** Text that deflates well: repeated words. */
export function textBytes(length: number, word = 'nixos '): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = word.charCodeAt(i % word.length);
  return out;
}

/**
 * An image of `size` bytes with `count` random segments of random lengths (up to
 * `maxLength`) at random, unaligned offsets; some are all zeros, some compressible text.
 */
export function randomImage(seed: number, size: number, count: number, maxLength: number): BlockImage {
  const next = seededInts(seed);
  const segments: Segment[] = [];
  const slot = Math.floor(size / count);
  for (let i = 0; i < count; i++) {
    const length = 1 + next(Math.min(maxLength, slot - 1));
    const offset = i * slot + next(slot - length);
    const kind = next(4);
    const bytes = kind === 0 ? new Uint8Array(length) : kind === 1 ? textBytes(length, `w${i} `) : seededBytes(seed * 31 + i, length);
    segments.push(bytesSegment(offset, bytes));
  }
  return imageFromSegments(size, segments);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface Qcow2Verdict {
  readonly checkText: string;
  readonly check: Record<string, unknown>;
  readonly info: Record<string, unknown>;
}

/** Runs `qemu-img check` (text and JSON) and `qemu-img info` and asserts a clean, v3 image. */
export function assertCleanQcow2(path: string, virtualSize: number): Qcow2Verdict {
  const text = run('qemu-img', ['check', '-f', 'qcow2', path]);
  assert.equal(text.status, 0, `qemu-img check exited ${text.status}\n${text.stdout}\n${text.stderr}`);
  assert.match(text.stdout, /No errors were found on the image\./);
  const check = JSON.parse(runOk('qemu-img', ['check', '-f', 'qcow2', '--output=json', path]).stdout) as Record<string, unknown>;
  assert.equal(check['check-errors'], 0);
  assert.equal(check['leaks'], undefined);
  assert.equal(check['corruptions'], undefined);
  const info = JSON.parse(runOk('qemu-img', ['info', '-f', 'qcow2', '--output=json', path]).stdout) as Record<string, unknown>;
  assert.equal(info['virtual-size'], virtualSize);
  const specific = info['format-specific'] as { data: Record<string, unknown> };
  assert.equal(specific.data['compat'], '1.1');
  assert.equal(specific.data['corrupt'], false);
  assert.equal(specific.data['refcount-bits'], 16);
  assert.equal(info['dirty-flag'], false);
  return { checkText: text.stdout, check, info };
}

export interface Qcow2Written extends Qcow2Verdict {
  readonly raw: string;
  readonly qcow2: string;
}

/**
 * Writes `image` as `dir/name.raw` and, through `write` (which returns the qcow2 file it
 * wrote at the path it is given), as `dir/name.qcow2`; checks the qcow2 with qemu-img (clean,
 * the virtual size rounded up to whole sectors) and against the raw image.
 */
export async function writeQcow2AndRaw(dir: string, name: string, image: BlockImage, write: (path: string) => Promise<string>): Promise<Qcow2Written> {
  const raw = await writeTo(join(dir, `${name}.raw`), (out) => writeRaw(image, out));
  const qcow2 = await write(join(dir, `${name}.qcow2`));
  const verdict = assertCleanQcow2(qcow2, Math.ceil(image.size / 512) * 512);
  assertSameContent(raw, qcow2);
  return { raw, qcow2, ...verdict };
}

/**
 * Three images whose size is not a whole number of clusters or grains: data in the tail of
 * a 1 MiB + 4 KiB image, an odd 1000003-byte image, and a 1000-byte one (seeds `seed` to `seed + 2`).
 */
export function oddSizeImages(seed: number, tail = 'cluster-tail'): [string, BlockImage][] {
  return [
    [tail, imageFromSegments(MiB + 4096, [bytesSegment(MiB + 4000, seededBytes(seed, 96))])],
    ['odd-size', imageFromSegments(1_000_003, [bytesSegment(999_000, seededBytes(seed + 1, 1003))])],
    ['tiny', imageFromSegments(1000, [bytesSegment(0, seededBytes(seed + 2, 1000))])],
  ];
}

/** `qemu-img compare -f raw -F qcow2`: exit 0 and "Images are identical." */
export function assertSameContent(rawPath: string, qcow2Path: string): void {
  const result = run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', rawPath, qcow2Path]);
  assert.equal(result.status, 0, `qemu-img compare exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /Images are identical\./);
}

export { writeTo };

/** `length` bytes of a file from `position`. */
export function readAt(path: string, position: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buffer = new Uint8Array(length);
    assert.equal(readSync(fd, buffer, 0, length, position), length, `${length} bytes at ${position} of ${path}`);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/** Overwrites bytes of a file in place (for negative controls). */
export function writeAt(path: string, position: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  } finally {
    closeSync(fd);
  }
}

/**
 * `base` followed by the two other kinds of source: a lazily produced MiB of text at
 * `base.size + 1` and `fileLength` bytes of `file` at `base.size + 2 MiB - 77`, in an image
 * of `size` bytes. So an image has bytes, lazy and file segments, unaligned, crossing windows.
 */
export function withLazyAndFile(base: BlockImage, seed: number, file: string, fileLength: number, size: number): BlockImage {
  return imageFromSegments(size, [
    ...base.segments(),
    lazySegment(base.size + 1, MiB, () => textBytes(MiB, `lazy ${seed} `)),
    { offset: base.size + 2 * MiB - 77, length: fileLength, source: { kind: 'file', path: file, offset: 0 } },
  ]);
}

/**
 * A sparse image of `size` bytes (more than 12 GiB) with four regions of random bytes, from
 * seeds `seed` to `seed + 3`: 1 MiB at 0, `middle` bytes at 5 GiB + 99, 200 bytes across
 * 12 GiB (an L2 table boundary of 64 KiB-cluster qcow2, a block boundary of VHD and VHDX),
 * and the last 5000 bytes.
 */
export function fourRegionImage(size: number, seed: number, middle = 2 * MiB + 1): BlockImage {
  const GiB = 1 << 30;
  return imageFromSegments(size, [
    bytesSegment(0, seededBytes(seed, MiB)),
    bytesSegment(5 * GiB + 99, seededBytes(seed + 1, middle)),
    bytesSegment(12 * GiB - 100, seededBytes(seed + 2, 200)),
    bytesSegment(size - 5000, seededBytes(seed + 3, 5000)),
  ]);
}

/** An image that counts how often its segment list is walked and each producer runs, and in which order. */
export interface CountingImage {
  readonly image: BlockImage;
  /** segments() calls so far. */
  readonly listings: () => number;
  /** Producer indexes in the order they ran. */
  readonly produced: () => readonly number[];
}

/** `count` lazy segments of `length` bytes every `stride` bytes from `first`, alternately text and random. */
export function countingImage(size: number, count: number, first: number, stride: number, length: number): CountingImage {
  let listings = 0;
  const produced: number[] = [];
  const segments = Array.from({ length: count }, (_, i) => lazySegment(first + i * stride, length, () => {
    produced.push(i);
    return i % 2 === 0 ? textBytes(length, `segment ${i} `) : seededBytes(i + 1, length);
  }));
  imageFromSegments(size, segments); // validates the layout
  return {
    image: { size, segments: () => (listings++, segments) },
    listings: () => listings,
    produced: () => produced,
  };
}

/**
 * Each `[options, message]` makes `write` fail with an ImageError of exit status 2 (a usage
 * error) whose message matches; the caller then aborts its output file, and nothing is left.
 */
export async function assertUsageErrors<O>(dir: string, name: string, write: (out: OutputFile, options: O) => Promise<void>, bad: readonly (readonly [unknown, RegExp])[]): Promise<void> {
  for (const [options, message] of bad) {
    const out = OutputFile.create(join(dir, name));
    await assert.rejects(write(out, options as O), (e: unknown) => e instanceof ImageError && e.exitCode === 2 && message.test(e.message), String(message));
    out.abort();
    assert.equal(existsSync(out.finalPath) || existsSync(out.temporaryPath), false);
  }
}

/** Peak RSS growth in MiB while `write` streams into a sink that only samples the RSS. */
export async function rssGrowthWhileWriting(write: (sink: ByteSink) => Promise<void>): Promise<number> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sink: ByteSink = { position: 0, write: async () => { peak = Math.max(peak, process.memoryUsage().rss); }, close: async () => undefined };
  await write(sink);
  return (peak - before) / MiB;
}

/**
 * Described spans end to end: an image of "store" files laid out block after block
 * (between a produced segment and in-memory bytes) is streamed by `write` into a sink from
 * `makeSink` three times: without a cache, with an empty one, and with the warm one after
 * the files were deleted (a build that read any of them would fail). All three give the
 * same bytes, the warm one finds every unit, and `check` gets the output, the image and
 * its raw form (written before the files went).
 */
export async function assertWarmStreamReadsNoFile(dir: string, extension: string,
  makeSink: (target: ByteSink, cache: UnitCache | undefined) => CompressingSink,
  write: (image: BlockImage, sink: ByteSink, identify: FileIdentity) => Promise<void>,
  check: (output: string, image: BlockImage, raw: string) => void): Promise<void> {
  const store = join(dir, 'store');
  mkdirSync(store);
  const segments: Segment[] = [lazySegment(0, 12 * 1024, () => textBytes(12 * 1024, 'inode table '))];
  let at = 70 * 1024 + 512;
  for (let i = 0; i < 60; i++) {
    const path = join(store, `f${i}`);
    const size = i === 30 ? 3 * MiB + 17 : 1 + ((i * 7919) % (90 * 1024));
    writeFileSync(path, i % 3 === 0 ? seededBytes(100 + i, size) : textBytes(size, `file ${i} `));
    segments.push({ offset: at, length: size, source: { kind: 'file', path, offset: 0, size } });
    at += Math.ceil(size / 4096) * 4096;
  }
  segments.push(bytesSegment(at + 5 * MiB, seededBytes(7, 100 * 1024)));
  const image = imageFromSegments(at + 8 * MiB, segments);
  const identify: FileIdentity = (path) => (path.startsWith(`${store}/`) ? `test ${path}` : undefined);
  const cacheAt = join(dir, 'cache');
  const build = async (name: string, withCache: boolean): Promise<{ path: string; cache: UnitCache | undefined }> => {
    const cache = withCache ? new UnitCache({ directory: cacheAt, maxBytes: 1 << 30, warn: (line) => assert.fail(line) }) : undefined;
    const out = OutputFile.create(join(dir, `${name}.${extension}`));
    const sink = makeSink(outputFileSink(out), cache);
    await write(image, sink, identify);
    await sink.close();
    return { path: out.commit(), cache };
  };
  const plain = await build('plain', false);
  const cold = await build('cold', true);
  const raw = await writeTo(join(dir, 'image.raw'), (out) => writeRaw(image, out));
  rmSync(store, { recursive: true });
  const warm = await build('warm', true);
  assert.equal(warm.cache!.misses, 0);
  const described = [...warm.cache!.byKind].filter(([kind]) => kind.endsWith('described span')).reduce((sum, [, counts]) => sum + counts.hits, 0);
  assert.ok(described >= 3, JSON.stringify([...warm.cache!.byKind]));
  const sums = [plain, cold, warm].map((b) => sha256File(b.path));
  assert.deepEqual(sums, [sums[0], sums[0], sums[0]]);
  check(warm.path, image, raw);
}
