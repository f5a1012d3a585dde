/**
 * Rough speed of the VHD (fixed, dynamic) and VHDX writers against `qemu-img convert` from
 * the same raw file, on a warm page cache. Each writer runs as its own process under GNU
 * time, so both sides pay a process start and peak memory is comparable; `sync` runs before
 * each measurement so neither inherits the other's writeback. Prints a markdown
 * table; writes nothing into the repository.
 *
 *   node dist/bench/containers-vhd.js [--disk-gib N (8)] [--data-gib N (1)] [--runs N (5)]
 *
 * The disk is sparse: `--data-gib` of data (half random, half repetitive text) in 16 MiB
 * regions spread evenly over it, holes between them. Our writers read the data through
 * `file` segments of the raw file, as they read closure files in a real build.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageFromSegments, type BlockImage, type Segment } from '../src/core/block-image.js';
import { OutputFile } from '../src/core/output-file.js';
import { writeVhd } from '../src/container/vhd.js';
import { writeVhdx } from '../src/container/vhdx.js';

const MiB = 1 << 20;
const GiB = 1 << 30;
const REGION = 16 * MiB;

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} expects a positive number`);
  return value;
}

/** Offsets of the data regions: evenly spread, whole MiB (the fixed VHD needs whole MiB anyway). */
function regions(diskBytes: number, dataBytes: number): number[] {
  const count = Math.max(1, Math.floor(dataBytes / REGION));
  const stride = Math.floor(diskBytes / count / MiB) * MiB;
  if (stride < REGION) throw new Error('more data than disk');
  return Array.from({ length: count }, (_, i) => i * stride);
}

function imageOf(rawPath: string, diskBytes: number, offsets: number[]): BlockImage {
  const segments: Segment[] = offsets.map((offset) => ({ offset, length: REGION, source: { kind: 'file', path: rawPath, offset } }));
  return imageFromSegments(diskBytes, segments);
}

/** Writes the sparse raw source: random and text regions, holes elsewhere. */
function writeSource(path: string, diskBytes: number, offsets: number[]): void {
  const fd = openSync(path, 'w');
  try {
    const text = Buffer.alloc(REGION, 'nixos store path text ');
    let x = 0x9e3779b9;
    const random = Buffer.alloc(REGION);
    for (const [i, offset] of offsets.entries()) {
      let data: Buffer = text;
      if (i % 2 === 0) {
        for (let j = 0; j < REGION; j += 4) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          random.writeUInt32LE(x >>> 0, j);
        }
        data = random;
      }
      writeSync(fd, data, 0, data.length, offset);
    }
  } finally {
    closeSync(fd);
  }
  spawnSync('truncate', ['-s', String(diskBytes), path]);
}

interface Measurement { seconds: number; peakKiB: number }

function timed(command: string, args: string[]): Measurement {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  const [seconds, peak] = result.stderr.trim().split('\n').at(-1)!.split(' ');
  return { seconds: Number(seconds), peakKiB: Number(peak) };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

type Kind = 'vhd-fixed' | 'vhd-dynamic' | 'vhdx';

const QEMU: Record<Kind, string[]> = {
  'vhd-fixed': ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'],
  'vhd-dynamic': ['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on'],
  'vhdx': ['-O', 'vhdx', '-o', 'subformat=dynamic'],
};

/** Child mode: write one container from the raw file's data regions, then exit. */
async function child(kind: Kind, rawPath: string, diskBytes: number, dataBytes: number, outPath: string): Promise<void> {
  const image = imageOf(rawPath, diskBytes, regions(diskBytes, dataBytes));
  const out = OutputFile.create(outPath);
  try {
    if (kind === 'vhdx') await writeVhdx(image, out, { seed: 'bench' });
    else await writeVhd(image, out, { subformat: kind === 'vhd-fixed' ? 'fixed' : 'dynamic', seed: 'bench', epoch: 1 });
    out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [, , , kind, rawPath, disk, data, outPath] = process.argv;
    await child(kind as Kind, rawPath!, Number(disk), Number(data), outPath!);
    return;
  }
  const diskBytes = argument('--disk-gib', 8) * GiB;
  const dataBytes = argument('--data-gib', 1) * GiB;
  const runs = argument('--runs', 5);
  const work = mkdtempSync(join(tmpdir(), 'ngts-bench-vhd-'));
  try {
    const raw = join(work, 'disk.raw');
    const offsets = regions(diskBytes, dataBytes);
    writeSource(raw, diskBytes, offsets);
    spawnSync('sync');
    spawnSync('cat', [raw], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache
    const self = fileURLToPath(import.meta.url);
    const rows: string[] = [];
    for (const kind of ['vhd-fixed', 'vhd-dynamic', 'vhdx'] as const) {
      const oursRuns: Measurement[] = [];
      const qemuRuns: Measurement[] = [];
      const oursPath = join(work, `ours.${kind}`);
      const qemuPath = join(work, `qemu.${kind}`);
      for (let i = -1; i < runs; i++) { // run -1 warms up and is not counted
        // Each side starts with no dirty pages of the other's output to write back.
        rmSync(oursPath, { force: true });
        rmSync(qemuPath, { force: true });
        spawnSync('sync');
        // Alternate who goes first: the run right after a large sync often writes slower.
        const runQemu = (): Measurement => timed('qemu-img', ['convert', '-f', 'raw', ...QEMU[kind], raw, qemuPath]);
        const runOurs = (): Measurement => timed(process.execPath, [self, '--child', kind, raw, String(diskBytes), String(offsets.length * REGION), oursPath]);
        let q: Measurement;
        let o: Measurement;
        if (i % 2 === 0) {
          q = runQemu();
          spawnSync('sync');
          o = runOurs();
        } else {
          o = runOurs();
          spawnSync('sync');
          q = runQemu();
        }
        if (i >= 0) {
          qemuRuns.push(q);
          oursRuns.push(o);
        }
      }
      const o = median(oursRuns.map((m) => m.seconds));
      const q = median(qemuRuns.map((m) => m.seconds));
      const fastest = (ms: Measurement[]): number => Math.min(...ms.map((m) => m.seconds));
      const best = (ms: Measurement[]): string => fastest(ms).toFixed(2);
      const sizes = (path: string): string => {
        const s = statSync(path);
        return `${(s.size / MiB).toFixed(0)} / ${((s.blocks * 512) / MiB).toFixed(0)}`;
      };
      rows.push(`| ${kind} | ${o.toFixed(2)} (${best(oursRuns)}) | ${q.toFixed(2)} (${best(qemuRuns)}) | ${(fastest(oursRuns) / fastest(qemuRuns)).toFixed(2)}x | ${(median(oursRuns.map((m) => m.peakKiB)) / 1024).toFixed(0)} | ${(median(qemuRuns.map((m) => m.peakKiB)) / 1024).toFixed(0)} | ${sizes(oursPath)} | ${sizes(qemuPath)} |`);
    }
    const cpu = /model name\s*:\s*(.*)/.exec(spawnSync('cat', ['/proc/cpuinfo'], { encoding: 'utf8' }).stdout)?.[1] ?? 'unknown CPU';
    const qemuVersion = spawnSync('qemu-img', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    process.stdout.write([
      `## VHD and VHDX writers against qemu-img convert`,
      '',
      `${diskBytes / GiB} GiB sparse disk holding ${(offsets.length * REGION) / GiB} GiB of data (${offsets.length} regions of 16 MiB, half random, half text), from one raw file on a warm page cache.`,
      `Machine: ${cpu}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores; ${qemuVersion}; Node ${process.version}; median and best of ${runs} runs, interleaved (alternating which goes first), \`sync\` before each; each side is one process (wall time includes its start). Both write into the page cache, so expect noise from writeback.`,
      '',
      '| container | ours, median (best) s | qemu-img convert, median (best) s | ratio of bests | ours peak (MiB) | qemu-img peak (MiB) | ours size / allocated (MiB) | qemu-img size / allocated (MiB) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
