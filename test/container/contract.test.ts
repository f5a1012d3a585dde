/**
 * The contract every container writer keeps, checked against each of them through one table
 * of adapters (file-based writers and sink-based ones, plain or compressed, and the option
 * variants that take another code path):
 *
 *   - progress: under the writer's default phase names, or the caller's phase, each step of
 *     the write reports from 0 to its total, never backwards; the first step is the image
 *     pass, whose total is the image size;
 *   - the image is read once: each lazy producer runs exactly once, in image order, and the
 *     segment list is walked exactly `listings` times;
 *   - cancellation: a signal aborted before the call, or during any step, throws the
 *     InterruptedError naming the signal at the next checkpoint; the caller aborts its
 *     OutputFile (as the CLI does) and nothing is left in the directory: neither the final
 *     file, nor its temporary file, nor a writer's own temporary file;
 *   - determinism: the same image written twice (same options, same output name) gives the
 *     same sha256;
 *   - sink-based writers leave the sink open: the caller closes it.
 *
 * Format structure, reference tools and writer-specific options stay in each writer's file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSink } from '../../src/compress/gzip.js';
import { zstdSink } from '../../src/compress/zstd.js';
import { bytesSegment, imageFromSegments, type BlockImage } from '../../src/core/block-image.js';
import { InterruptedError } from '../../src/core/errors.js';
import { OutputFile } from '../../src/core/output-file.js';
import { checkpoint, type PhasedControl, type ProgressEvent } from '../../src/core/progress.js';
import { outputFileSink, type ByteSink } from '../../src/core/sink.js';
import { writeGceTarball } from '../../src/container/gce.js';
import { writeOva } from '../../src/container/ova.js';
import { PROXMOX_DEVICE_NAME, proxmoxQemuServerConf } from '../../src/container/proxmox-config.js';
import { writeQcow2 } from '../../src/container/qcow2.js';
import { writeQcow2Stream } from '../../src/container/qcow2-stream.js';
import { writeRaw, writeRawStream } from '../../src/container/raw.js';
import { writeVagrantBox } from '../../src/container/vagrant-box.js';
import { writeVhd } from '../../src/container/vhd.js';
import { writeVhdx } from '../../src/container/vhdx.js';
import { writeVma } from '../../src/container/vma.js';
import { writeVmdk, writeVmdkStream } from '../../src/container/vmdk.js';
import { tempDir } from '../helpers/run.js';
import { countingImage, randomImage, seededBytes, sha256File, textBytes, withLazyAndFile, writeTo } from './fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const SEED = 'contract';
const EPOCH = 1_700_000_000;

interface ContainerCase {
  readonly name: string;
  /** Output file name (some writers name things inside after it). */
  readonly file: string;
  /** The default phase of each progress step, in order. */
  readonly steps: readonly string[];
  /** The steps' phases when the caller gives one (default: that phase for every step). */
  readonly givenSteps?: (phase: string) => readonly string[];
  /** How many times one write walks `image.segments()`. */
  readonly listings: number;
  /** Takes only images of a whole number of MiB (a fixed VHD, as Azure requires). */
  readonly wholeMiB?: boolean;
  /**
   * An option variant of the case before it that changes how the bytes are laid out but
   * not the progress and cancellation code: checked for the single read and determinism only.
   */
  readonly variant?: boolean;
  /** Writes `image` into `out`, which the caller owns: it commits on success and aborts on failure. */
  write(image: BlockImage, out: OutputFile, control: PhasedControl): Promise<void>;
}

type Compression = 'none' | 'gzip' | 'zstd';

/**
 * A sink-based writer as the CLI drives it: into `out` through an optional compressor; on
 * failure the compressor is aborted (the caller aborts `out`), on success the caller closes
 * the sink, which the writer must have left open.
 */
async function throughSink(out: OutputFile, compression: Compression, write: (sink: ByteSink) => Promise<void>): Promise<void> {
  const target = outputFileSink(out);
  const compressor = compression === 'gzip' ? gzipSink(target) : compression === 'zstd' ? zstdSink(target) : undefined;
  const sink = compressor ?? target;
  let closedByWriter = false;
  const guarded: ByteSink = {
    get position() {
      return sink.position;
    },
    write: (data) => sink.write(data),
    close: async () => {
      closedByWriter = true;
    },
  };
  try {
    await write(guarded);
  } catch (error) {
    await compressor?.abort();
    throw error;
  }
  assert.equal(closedByWriter, false, 'the writer leaves the sink open: the caller closes it');
  await sink.close();
}

const VMA = { config: proxmoxQemuServerConf({ qemuConf: { name: 'contract' } }), deviceName: PROXMOX_DEVICE_NAME, seed: SEED, epoch: EPOCH };

const CASES: readonly ContainerCase[] = [
  { name: 'raw', file: 'nixos.img', steps: ['write raw'], listings: 1, write: (image, out, control) => writeRaw(image, out, control) },
  {
    name: 'raw stream, gzip', file: 'nixos.img.gz', steps: ['write raw'], listings: 1,
    write: (image, out, control) => throughSink(out, 'gzip', (sink) => writeRawStream(image, sink, control)),
  },
  { name: 'qcow2', file: 'nixos.qcow2', steps: ['write qcow2'], listings: 1, write: (image, out, control) => writeQcow2(image, out, {}, control) },
  {
    name: 'qcow2, compressed clusters', file: 'nixos.qcow2', steps: ['write qcow2'], listings: 1,
    write: (image, out, control) => writeQcow2(image, out, { compress: true }, control),
  },
  {
    name: 'qcow2, 4 KiB compressed clusters', file: 'nixos.qcow2', steps: ['write qcow2'], listings: 1, variant: true,
    write: (image, out, control) => writeQcow2(image, out, { clusterBits: 12, compress: true }, control),
  },
  {
    // The layout comes from the segment list before any data is read, then the data.
    name: 'qcow2 stream', file: 'nixos.qcow2', steps: ['write qcow2'], listings: 2,
    write: (image, out, control) => throughSink(out, 'none', (sink) => writeQcow2Stream(image, sink, {}, control)),
  },
  {
    name: 'qcow2 stream, gzip', file: 'nixos.qcow2.gz', steps: ['write qcow2'], listings: 2,
    write: (image, out, control) => throughSink(out, 'gzip', (sink) => writeQcow2Stream(image, sink, {}, control)),
  },
  {
    name: 'vhd fixed', file: 'disk.vhd', steps: ['write vhd (fixed)'], listings: 1, wholeMiB: true,
    write: (image, out, control) => writeVhd(image, out, { subformat: 'fixed', seed: SEED, epoch: EPOCH }, control),
  },
  {
    name: 'vhd dynamic', file: 'disk.vhd', steps: ['write vhd (dynamic)'], listings: 1,
    write: (image, out, control) => writeVhd(image, out, { subformat: 'dynamic', seed: SEED, epoch: EPOCH }, control),
  },
  { name: 'vhdx', file: 'disk.vhdx', steps: ['write vhdx'], listings: 1, write: (image, out, control) => writeVhdx(image, out, { seed: SEED }, control) },
  {
    name: 'vhdx, 1 MiB blocks', file: 'disk.vhdx', steps: ['write vhdx'], listings: 1, variant: true,
    write: (image, out, control) => writeVhdx(image, out, { seed: SEED, blockSize: MiB }, control),
  },
  {
    name: 'vmdk monolithicSparse', file: 'disk.vmdk', steps: ['write vmdk'], listings: 1,
    write: (image, out, control) => writeVmdk(image, out, { subformat: 'monolithicSparse', seed: SEED }, control),
  },
  {
    name: 'vmdk streamOptimized', file: 'disk.vmdk', steps: ['write vmdk'], listings: 1,
    write: (image, out, control) => writeVmdk(image, out, { subformat: 'streamOptimized', seed: SEED }, control),
  },
  {
    name: 'vmdk stream', file: 'disk.vmdk', steps: ['write vmdk'], listings: 1,
    write: (image, out, control) => throughSink(out, 'none', (sink) => writeVmdkStream(image, sink, { subformat: 'streamOptimized', seed: SEED }, control)),
  },
  { name: 'ova', file: 'nixos.ova', steps: ['write ova'], listings: 1, write: (image, out, control) => writeOva(image, out, { seed: SEED, epoch: EPOCH }, control) },
  {
    // The disk goes to a temporary VMDK first, then tar and gzip pack it with the rest.
    name: 'vagrant box', file: 'virtualbox-vagrant.box', steps: ['write vagrant box disk', 'pack vagrant box'], givenSteps: (phase) => [`${phase}: disk`, `${phase}: pack`], listings: 1,
    write: (image, out, control) => writeVagrantBox(image, out, { seed: SEED, epoch: EPOCH }, control),
  },
  {
    // The sparse tar's data map comes from the segment list before any data is read.
    name: 'gce', file: 'nixos.raw.tar.gz', steps: ['write gce tarball'], listings: 2,
    write: (image, out, control) => writeGceTarball(image, out, { epoch: EPOCH }, control),
  },
  {
    name: 'vma', file: 'disk.vma', steps: ['write vma'], listings: 1,
    write: (image, out, control) => throughSink(out, 'none', (sink) => writeVma(image, sink, VMA, control)),
  },
  {
    name: 'vma, zstd', file: 'vzdump-qemu-nixos.vma.zst', steps: ['write vma'], listings: 1,
    write: (image, out, control) => throughSink(out, 'zstd', (sink) => writeVma(image, sink, VMA, control)),
  },
];

/** The progress events of one write, cut into steps: a step ends when it reaches its total and the next event starts again at 0. */
class ProgressLog {
  readonly events: ProgressEvent[] = [];
  readonly steps: ProgressEvent[][] = [];

  readonly push = (event: ProgressEvent): void => {
    this.events.push(event);
    const current = this.steps.at(-1);
    const last = current?.at(-1);
    if (current === undefined || (last!.done === last!.total && event.done === 0)) this.steps.push([event]);
    else current.push(event);
  };

  /** The step the last event belongs to, and how many events that step has had. */
  position(): { step: number; events: number } {
    return { step: this.steps.length - 1, events: this.steps.at(-1)?.length ?? 0 };
  }
}

/**
 * 272 MiB with a segment in every MiB, so every window is read: enough for at least two
 * intermediate reports from every writer, whose checkpoints are throttled (the coarsest, VHD
 * and VHDX, report every 128 MiB). Every fourth MiB is text, the others explicit zeros: the
 * writers store data and compressors work all along, at a quarter of the cost.
 */
const TEXT_MIB = textBytes(MiB, 'block ');
const ZERO_MIB = new Uint8Array(MiB);
const PROGRESS_IMAGE = imageFromSegments(272 * MiB, Array.from({ length: 272 }, (_, i) => bytesSegment(i * MiB, i % 4 === 0 ? TEXT_MIB : ZERO_MIB)));

function assertProgress(log: ProgressLog, phases: readonly string[], imageSize: number, what: string): void {
  assert.deepEqual(log.steps.map((s) => s[0]!.phase), phases, `${what}: the steps and their phases`);
  log.steps.forEach((events, k) => {
    const total = events[0]!.total;
    if (k === 0) assert.equal(total, imageSize, `${what}: the first step is the pass over the image`);
    assert.ok(total > 0, `${what}: step ${k} has a total`);
    assert.equal(events[0]!.done, 0, `${what}: step ${k} starts at 0`);
    assert.equal(events.at(-1)!.done, total, `${what}: step ${k} ends at its total`);
    for (const e of events) {
      assert.equal(e.phase, phases[k], `${what}: step ${k} keeps its phase`);
      assert.equal(e.total, total, `${what}: step ${k} keeps its total`);
    }
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.done >= events[i - 1]!.done, `${what}: step ${k} never goes backwards`);
  });
  assert.ok(log.steps[0]!.length >= 4, `${what}: ${log.steps[0]!.length} events in the image pass, expected 0, two or more along the way, and the end`);
}

function isSigint(error: unknown): boolean {
  return error instanceof InterruptedError && /SIGINT/.test(error.message);
}

/** Checks run in a fresh directory that is removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir('contract');
  try {
    await body(dir.path);
  } finally {
    dir.remove();
  }
}

function checkProgress(c: ContainerCase): Promise<void> {
  return inTempDir(async (dir) => {
    for (const phase of [undefined, 'write the output']) {
      const log = new ProgressLog();
      await writeTo(join(dir, c.file), (out) => c.write(PROGRESS_IMAGE, out, { onProgress: log.push, ...(phase === undefined ? {} : { phase }) }));
      assertProgress(log, phase === undefined ? c.steps : (c.givenSteps?.(phase) ?? c.steps.map(() => phase)), PROGRESS_IMAGE.size, phase ?? 'default phase');
    }
  });
}

function checkReadOnce(c: ContainerCase): Promise<void> {
  return inTempDir(async (dir) => {
    // Unaligned 200 KiB segments every 250 KiB, alternately text and random bytes.
    const counting = countingImage(12 * MiB, 48, 13, 250 * KiB, 200 * KiB);
    await writeTo(join(dir, c.file), (out) => c.write(counting.image, out, {}));
    assert.equal(counting.listings(), c.listings, 'segments() listings');
    assert.deepEqual(counting.produced(), Array.from({ length: 48 }, (_, i) => i), 'each producer ran exactly once, in image order');
  });
}

/** After a cancelled write and the caller's abort of its OutputFile, the directory is empty. */
function assertNothingLeft(dir: string, out: OutputFile): void {
  assert.equal(existsSync(out.finalPath), false, 'no final file');
  assert.equal(existsSync(out.temporaryPath), false, 'no temporary file');
  assert.deepEqual(readdirSync(dir), [], 'no file is left, not even a temporary one of the writer');
}

function checkAbortBefore(c: ContainerCase): Promise<void> {
  return inTempDir(async (dir) => {
    const controller = new AbortController();
    controller.abort('SIGINT');
    const log = new ProgressLog();
    const out = OutputFile.create(join(dir, c.file));
    await assert.rejects(c.write(PROGRESS_IMAGE, out, { signal: controller.signal, onProgress: log.push }), isSigint);
    out.abort();
    assert.ok(log.events.every((e) => e.done === 0), 'nothing was reported past 0');
    assertNothingLeft(dir, out);
  });
}

/** Aborts at the second progress event of step `k`. */
function checkAbortDuring(c: ContainerCase, k: number): Promise<void> {
  return inTempDir(async (dir) => {
    const controller = new AbortController();
    const log = new ProgressLog();
    let abortedAt = -1;
    const onProgress = (event: ProgressEvent): void => {
      log.push(event);
      const at = log.position();
      if (abortedAt < 0 && at.step === k && at.events === 2) {
        abortedAt = log.events.length;
        controller.abort('SIGINT');
      }
    };
    const out = OutputFile.create(join(dir, c.file));
    await assert.rejects(c.write(PROGRESS_IMAGE, out, { signal: controller.signal, onProgress }), isSigint);
    out.abort();
    assert.ok(abortedAt > 0, `step ${k} was reached`);
    assert.equal(log.events.length, abortedAt, 'no progress after the abort: the writer stopped at the next checkpoint');
    assertNothingLeft(dir, out);
  });
}

function checkDeterministic(c: ContainerCase): Promise<void> {
  return inTempDir(async (dir) => {
    const file = join(dir, 'source');
    writeFileSync(file, seededBytes(14, 2 * MiB));
    // Random, text and zero segments at unaligned offsets, a lazy one and a file one; an image
    // of whole MiB, and (for writers that take it) one of an odd size.
    const images: BlockImage[] = [withLazyAndFile(randomImage(81, 5 * MiB, 14, 900 * KiB), 81, file, 2 * MiB, 9 * MiB)];
    if (c.wholeMiB !== true) images.push(withLazyAndFile(randomImage(82, 5 * MiB + 17, 14, 900 * KiB), 82, file, 2 * MiB, 9 * MiB + 17));
    for (const [i, image] of images.entries()) {
      const paths = [];
      for (const copy of ['a', 'b']) {
        mkdirSync(join(dir, `${copy}${i}`));
        paths.push(await writeTo(join(dir, `${copy}${i}`, c.file), (out) => c.write(image, out, {})));
      }
      assert.equal(sha256File(paths[0]!), sha256File(paths[1]!), `a ${image.size}-byte image`);
    }
  });
}

for (const c of CASES) {
  describe(`${c.name}: the container contract`, () => {
    if (c.variant !== true) {
      test('progress runs from 0 to the total of each step, never backwards, under the default or the given phase', () => checkProgress(c));
      test('a signal aborted before the write throws the InterruptedError and leaves no file', () => checkAbortBefore(c));
      for (const [k, phase] of c.steps.entries()) {
        test(`a signal aborted during step "${phase}" stops the writer at its next checkpoint and leaves no file`, () => checkAbortDuring(c, k));
      }
    }
    const listed = c.listings === 1 ? 'once' : `${c.listings} times`;
    test(`the image is read once, in order: each producer runs once, the segment list is walked ${listed}`, () => checkReadOnce(c));
    test('writing the same image twice gives the same sha256', () => checkDeterministic(c));
  });
}

describe('the contract checks catch broken writers (negative controls)', () => {
  /** A raw writer with one fault; its checks must fail. */
  const broken = (name: string, write: ContainerCase['write']): ContainerCase => ({ name, file: 'broken.img', steps: ['write raw'], listings: 1, write });
  const report = (control: PhasedControl, done: number, total: number, phase = 'write raw'): void => control.onProgress?.({ phase, done, total });

  test('progress that goes backwards, stops short, or has no reports along the way', async () => {
    const fakes: [ContainerCase, RegExp][] = [
      [broken('backwards', async (image, out, control) => {
        for (const done of [0, 100, 50, 150, image.size]) report(control, done, image.size, control.phase);
        out.truncate(0);
      }), /never goes backwards/],
      [broken('short', async (image, out, control) => {
        for (const done of [0, 100, 200, 300]) report(control, done, image.size, control.phase);
        out.truncate(0);
      }), /ends at its total/],
      [broken('silent', async (image, out, control) => {
        for (const done of [0, image.size]) report(control, done, image.size, control.phase);
        out.truncate(0);
      }), /events in the image pass/],
      [broken('phase', (image, out, control) => writeRaw(image, out, { ...control, phase: 'something else' })), /phases/],
    ];
    for (const [fake, message] of fakes) await assert.rejects(checkProgress(fake), message, fake.name);
  });

  test('an image read twice, or a producer run twice', async () => {
    await assert.rejects(checkReadOnce(broken('twice', async (image, out) => {
      await writeRaw(image, out);
      await writeRaw(image, out);
    })), /listings/);
    const readAgain = broken('producer twice', async (image, out) => {
      await writeRaw(image, out);
      for (const s of image.segments()) if (s.source.kind === 'lazy') s.source.produce();
    });
    await assert.rejects(checkReadOnce({ ...readAgain, listings: 2 }), /each producer ran exactly once/);
  });

  test('a leftover file, a missed signal, or progress after the abort', async () => {
    const leftover = broken('leftover', async (image, out, control) => {
      writeFileSync(join(dirname(out.finalPath), 'leftover'), 'x');
      await writeRaw(image, out, control);
    });
    await assert.rejects(checkAbortBefore(leftover), /no file is left/);
    await assert.rejects(checkAbortDuring(leftover, 0), /no file is left/);
    const deaf = broken('deaf', (image, out, control) => writeRaw(image, out, { ...control, signal: new AbortController().signal }));
    await assert.rejects(checkAbortBefore(deaf), /Missing expected rejection/);
    const late = broken('late', async (image, out, control) => {
      for (const done of [0, 100, 200, 300]) report(control, done, image.size);
      await checkpoint(control);
    });
    await assert.rejects(checkAbortDuring(late, 0), /no progress after the abort/);
  });

  test('bytes that differ from one write to the next', async () => {
    let count = 0;
    const counter = broken('counter', async (image, out) => {
      await writeRaw(image, out);
      out.writeAt(image.size, Uint8Array.of(++count));
    });
    await assert.rejects(checkDeterministic(counter), /same sha256|-byte image/);
  });
});
