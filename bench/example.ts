/** Shared by the benchmarks: the example system with a payload, and timed commands. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled tree these benchmarks run from: dist/, or a copy of it (.cache/bench-dist/). */
const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository: the nearest directory above DIST holding example/system.nix (so a copy of dist/ inside it still finds it). */
function findRepo(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'example/system.nix'))) return dir;
    if (dirname(dir) === dir) return resolve(start, '..');
  }
}

export const REPO = findRepo(DIST);
/** The CLI compiled with the benchmarks (DIST/src/bin.js): a copy of dist/ benchmarks its own CLI, whatever dist/ holds meanwhile. */
export const CLI = join(DIST, 'src/bin.js');

/**
 * Builds the example system for `system` (x86_64-linux or aarch64-linux) with `files`
 * random files of about `mebibytes` MiB; returns the toplevel.
 */
export function exampleWithPayload(hostName: string, files: number, mebibytes: number, system = 'x86_64-linux'): string {
  const result = spawnSync('nix-build', ['--no-out-link', join(REPO, 'example/system.nix'), '--argstr', 'hostName', hostName,
    '--argstr', 'system', system, '--arg', 'payloadFiles', String(files), '--arg', 'payloadMiB', String(mebibytes)],
  { encoding: 'utf8', env: { ...process.env, NIX_CONFIG: `${process.env['NIX_CONFIG'] ?? ''}\nsubstituters =` }, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`nix-build of the example system failed:\n${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1)!;
}

export interface Measurement {
  readonly seconds: number;
  readonly peakKiB: number;
}

/** Runs a command under GNU time (apt-get install time); returns wall seconds and peak RSS. */
export function timed(command: string, args: readonly string[]): Measurement {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  const [seconds, kib] = result.stderr.trim().split('\n').at(-1)!.split(' ');
  return { seconds: Number(seconds), peakKiB: Number(kib) };
}

/**
 * Runs ours and the reference `runs` times each, alternating who goes first, and gives the
 * table row both benchmarks against nixpkgs write: median seconds, output size and the
 * peak memory of each, the time ratio and the size difference. The outputs are read after
 * the last run.
 */
export function comparisonRow(label: string, runs: number, ours: { run(): Measurement; output: string }, reference: { run(): Measurement; output: string }): string {
  const ourTimes: Measurement[] = [];
  const refTimes: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) { ourTimes.push(ours.run()); refTimes.push(reference.run()); } else { refTimes.push(reference.run()); ourTimes.push(ours.run()); }
  }
  const seconds = (times: Measurement[]): number => median(times.map((m) => m.seconds));
  const peakMiB = (times: Measurement[]): number => Math.max(...times.map((m) => m.peakKiB)) / 1024;
  const sizeMiB = (path: string): number => statSync(path).size / (1 << 20);
  const [ourSeconds, refSeconds] = [seconds(ourTimes), seconds(refTimes)];
  const [ourSize, refSize] = [sizeMiB(ours.output), sizeMiB(reference.output)];
  return `| ${label} | ${ourSeconds.toFixed(2)} s, ${ourSize.toFixed(1)} MiB, peak ${peakMiB(ourTimes).toFixed(0)} MiB | ${refSeconds.toFixed(2)} s, ${refSize.toFixed(1)} MiB, peak ${peakMiB(refTimes).toFixed(0)} MiB | ${(ourSeconds / refSeconds).toFixed(2)}x | ${((ourSize / refSize - 1) * 100).toFixed(2)} % |`;
}

export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** The first line a tool prints about its version (on stdout or stderr), for the results' header. */
export function toolVersion(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? command;
}

/** A numeric command-line option of a benchmark (`--runs 3`), or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Runs a reference tool; returns its wall seconds. */
export function runTool(command: string, args: readonly string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs a shell pipeline (bash, errexit and pipefail); returns its wall seconds. */
export function runShell(script: string): number {
  return runTool('bash', ['-euo', 'pipefail', '-c', script]);
}

/** Fresh output, nothing dirty in the page cache: then the clock starts. */
export function freshOutput(output: string): void {
  rmSync(output, { force: true });
  spawnSync('sync');
}

/**
 * A scratch directory for a benchmark's files: on tmpfs when there is one (on this kind of
 * machine the disk's own noise, ext4's online discard and writeback, is larger than the
 * differences being measured), on the disk with `--disk 1`.
 */
export function scratchDir(name: string): string {
  const base = numberArg('--disk', 0) === 1 || !existsSync('/dev/shm') ? tmpdir() : '/dev/shm';
  return mkdtempSync(join(base, `ngts-bench-${name}-`));
}

/** The machine's CPU model, for the results' header. */
export function cpuModel(): string {
  return readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
}

/** Writes a benchmark's results to docs/benchmarks/<name>.md and prints them. */
export function writeResults(name: string, lines: readonly string[]): void {
  const text = lines.join('\n');
  writeFileSync(join(REPO, 'docs/benchmarks', `${name}.md`), text);
  process.stdout.write(text);
}
