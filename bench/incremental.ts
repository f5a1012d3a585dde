/**
 * Benchmark: rebuilds with a warm unit cache (`--cache`) after one store path changed,
 * against a cold build without the cache, in the same run. The closure is the example
 * system with the 1 GiB, 50,000-file payload and a second payload-like store path of
 * 50 MiB whose `generation` parameter changes it (new random bytes, a new store path).
 * For each format: a cold build of generation 1 without the cache (the baseline), one with
 * an empty cache (what filling it costs), then generation 2 with that cache (the rebuild,
 * --warm-runs times from the same filled cache, their median counted); each its own
 * process under GNU time, writing from the plan Nix computed (the evaluation is not
 * timed), into a fresh file after a `sync`. Every rebuilt image is checked against a
 * build of generation 2 without the cache, byte for byte.
 *
 *   node dist/bench/incremental.js [--files N] [--mib N] [--changed-mib N] [--warm-runs N]   (writes docs/benchmarks/incremental.md)
 *   node dist/bench/incremental.js --formats iso,do --contents store-like     (some rows only: printed, the doc left alone)
 *   node dist/bench/incremental.js --write PLAN OUT [CACHE]                  (one build of ours, for the timing)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cpuModel, freshOutput, type Measurement, numberArg, REPO, scratchDir, writeResults } from './example.js';
import { DEFAULT_CACHE_BYTES, UnitCache } from '../src/core/unit-cache.js';
import { buildImage } from '../src/formats/build.js';
import { planScope, queryClosure } from '../src/nix/closure.js';
import { prepareStoreDatabase } from '../src/nix/store-db.js';
import { imageRoots, isKexecPlan, parsePlanJson } from '../src/plan/index.js';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

const FORMATS = ['iso', 'kexec', 'lxc', 'do'] as const;

/** Child mode: build a plan's image into a directory, as the CLI would; prints what the cache gave (UnitCache.reuse). */
async function writeOurs(planFile: string, outputDir: string, cacheDir: string | undefined): Promise<void> {
  const plan = parsePlanJson(readFileSync(planFile, 'utf8'), planFile);
  prepareStoreDatabase(); // as the CLI does
  const closure = await queryClosure(plan.toplevel, undefined, imageRoots(plan));
  const scriptInputsClosure = isKexecPlan(plan) ? await queryClosure(plan.toplevel, undefined, plan.kexec.scriptInputs) : undefined;
  const scope = await planScope(plan, closure);
  const cache = cacheDir === undefined ? undefined : new UnitCache({ directory: cacheDir, maxBytes: DEFAULT_CACHE_BYTES, warn: (line) => process.stderr.write(`${line}\n`) });
  await buildImage({ plan, closure, ...(scriptInputsClosure === undefined ? {} : { scriptInputsClosure }), scope, outputDir, epoch: 1, cache });
  cache?.close();
  process.stdout.write(JSON.stringify(cache?.reuse() ?? { paths: { placed: 0, total: 0 }, units: { hits: 0, total: 0 } }));
}

type Content = 'random' | 'store-like';
const CONTENTS: readonly Content[] = ['store-like', 'random'];

/** The values of a comma-separated option among `all`, or all of them when it is not given. */
function listArg<T extends string>(name: string, all: readonly T[]): readonly T[] {
  const at = process.argv.indexOf(name);
  if (at < 0) return all;
  const chosen = (process.argv[at + 1] ?? '').split(',');
  const unknown = chosen.filter((value) => !all.includes(value as T));
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')}; expected some of ${all.join(', ')}`);
  return chosen as T[];
}

/**
 * The configuration: the example system, the payload, and the changing store path of
 * `changedMiB`, both of `content` (example/payload.nix): random bytes, or slices of real
 * binaries with every third file random, compressible as a store is.
 */
function configuration(work: string, content: Content, files: number, mebibytes: number, changedMiB: number, generation: number): string {
  const path = join(work, `configuration-${content}-${generation}.nix`);
  const payload = (n: number, mib: number, extra: string): string => `(import ${join(REPO, 'example/payload.nix')} { files = ${n}; mebibytes = ${mib};${extra} })`;
  const changing = content === 'random'
    ? `environment.systemPackages = [
    (pkgs.runCommand "changing-${changedMiB}-mib-generation-${generation}" { } ''
      mkdir -p "$out/share/changing"
      head -c ${changedMiB * 1048576} /dev/urandom >"$out/share/changing/data"
    '')
  ];`
    : '';
  const imports = [join(REPO, 'example/configuration.nix'), payload(files, mebibytes, content === 'random' ? '' : ' content = "store-like";'),
    ...(content === 'random' ? [] : [payload(1, changedMiB, ` content = "store-like"; generation = ${generation};`)])];
  writeFileSync(path, `{ pkgs, ... }: {
  imports = [ ${imports.join(' ')} ];
  networking.hostName = "bench-incremental";
  ${changing}
}
`);
  return path;
}

function planFor(format: string, configurationFile: string): string {
  const result = spawnSync('nix-build', ['--no-out-link', join(REPO, 'nix/eval.nix'), '-A', 'plan', '--argstr', 'formatModule', join(REPO, `nix/formats/${format}.nix`),
    '--arg', 'configuration', configurationFile, '-I', `nixpkgs=${join(REPO, 'example/nixpkgs')}`],
  { encoding: 'utf8', env: { ...process.env, NIX_CONFIG: `${process.env['NIX_CONFIG'] ?? ''}\nsubstituters =` }, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`nix-build of the ${format} plan failed:\n${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1)!;
}

type Reuse = ReturnType<UnitCache['reuse']>;

function describe({ paths, units }: Reuse): string {
  return `${paths.placed} of ${paths.total} store paths placed whole, ${units.hits} of ${units.total} units reused`;
}

interface Run extends Measurement {
  readonly reuse: Reuse;
}

/** One build of ours under GNU time. */
function timedWrite(planFile: string, outputDir: string, cacheDir: string | undefined): Run {
  const args = [join(REPO, 'dist/bench/incremental.js'), '--write', planFile, outputDir, ...(cacheDir === undefined ? [] : [cacheDir])];
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', 'node', ...NODE_FLAGS, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`a build of ${planFile} failed:\n${result.stderr}`);
  const [seconds, kib] = result.stderr.trim().split('\n').at(-1)!.split(' ');
  return { seconds: Number(seconds), peakKiB: Number(kib), reuse: JSON.parse(result.stdout) as Reuse };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function main(): Promise<void> {
  const files = numberArg('--files', 50_000);
  const mebibytes = numberArg('--mib', 1024);
  const changedMiB = numberArg('--changed-mib', 50);
  const warmRuns = numberArg('--warm-runs', 3);
  const formats = listArg('--formats', FORMATS);
  const contents = listArg('--contents', CONTENTS);
  const work = scratchDir('incremental');
  try {
    const rows: string[] = [];
    for (const content of contents) for (const format of formats) {
      const before = planFor(format, configuration(work, content, files, mebibytes, changedMiB, 1));
      const after = planFor(format, configuration(work, content, files, mebibytes, changedMiB, 2));
      const fileName = parsePlanJson(readFileSync(before, 'utf8'), before).output.fileName;
      const cache = join(work, `cache-${content}-${format}`);
      const build = (plan: string, name: string, cacheDir: string | undefined): Run & { image: string } => {
        const dir = join(work, `${content}-${format}-${name}`);
        freshOutput(join(dir, fileName));
        const run = timedWrite(plan, dir, cacheDir);
        process.stderr.write(`${content} ${format} ${name}: ${run.seconds} s, ${describe(run.reuse)}\n`);
        return { ...run, image: join(dir, fileName) };
      };
      const cold = build(before, 'cold', undefined);
      const filling = build(before, 'filling', cache);
      // Each rebuild starts from the cache the filling build left (a rebuild adds to it).
      const filled = `${cache}-filled`;
      spawnSync('cp', ['-a', cache, filled]);
      const warms: (Run & { image: string })[] = [];
      for (let run = 0; run < warmRuns; run++) {
        if (run > 0) {
          rmSync(cache, { recursive: true, force: true });
          spawnSync('cp', ['-a', filled, cache]);
        }
        warms.push(build(after, `warm-${run + 1}`, cache));
      }
      const reference = build(after, 'reference', undefined);
      for (const warm of warms) {
        if (sha256(warm.image) !== sha256(reference.image)) throw new Error(`${content} ${format}: the rebuild with the cache differs from a build without it`);
      }
      const warm = [...warms].sort((a, b) => a.seconds - b.seconds)[Math.floor(warms.length / 2)]!;
      const cacheMiB = spawnSync('du', ['-sm', filled], { encoding: 'utf8' }).stdout.split('\t')[0];
      const mib = (image: string): string => (statSync(image).size / (1 << 20)).toFixed(1);
      const runs = warms.length === 1 ? '' : ` (runs: ${warms.map((w) => w.seconds.toFixed(2)).join(', ')})`;
      rows.push(`| ${format} | ${content} | ${cold.seconds.toFixed(2)} s (${mib(cold.image)} MiB) | ${filling.seconds.toFixed(2)} s (${(filling.seconds / cold.seconds).toFixed(2)}x), cache ${cacheMiB} MiB | ${warm.seconds.toFixed(2)} s${runs}, ${describe(warm.reuse)} | ${reference.seconds.toFixed(2)} s | **${(warm.seconds / cold.seconds).toFixed(2)}x** | yes |`);
      for (const name of ['cold', 'filling', ...warms.map((_, run) => `warm-${run + 1}`), 'reference']) rmSync(join(work, `${content}-${format}-${name}`), { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
      rmSync(filled, { recursive: true, force: true });
    }
    if (formats.length < FORMATS.length || contents.length < CONTENTS.length) {
      process.stdout.write(`${rows.join('\n')}\n`);
      return;
    }
    writeResults('incremental', [
      '# Incremental rebuilds with the unit cache',
      '',
      'Written by `node dist/bench/incremental.js` (`bench/incremental.ts`); numbers are from the run below, not edited.',
      '',
      `Machine: ${cpuModel()}, ${availableParallelism()} cores; Node ${process.version}.`,
      `Input: the example system with a payload of ${files.toLocaleString('en')} files (${mebibytes} MiB) and one more store path of ${changedMiB} MiB, which the rebuild replaces by another (its derivation's \`generation\` parameter), both of one kind of content (example/payload.nix):`,
      '',
      '- **store-like**: slices of real binaries (GRUB\'s modules and images, the Debian runtime\'s libraries), no two files the same, with every third file random, as a closure holds already-compressed files; about as compressible as a store, so compressing takes most of a cold build, as it does for real closures.',
      '- **random**: random bytes only, the worst case for the cache: compressing takes little, so reading and writing the image, which a rebuild does as well, take most of a cold build.',
      '',
      'Each build is its own process writing from the plan Nix computed (evaluation not timed), into a fresh file after a `sync`, on ' + (work.startsWith('/dev/shm') ? 'tmpfs' : 'the disk') + `, one run each but the rebuild: ${warmRuns} runs, each from the cache the filling build left, and their median (a run of a few seconds varies by up to a half from one to the next on this machine).`,
      'Cold: generation 1 without the cache. Filling: generation 1 with an empty cache. Rebuild: generation 2 with that cache. Reference: generation 2 without the cache, which every rebuild must equal byte for byte.',
      'Target (issue 14): a rebuild at most 0.15x the cold build.',
      '',
      '| format | payload | cold, no cache | cold, filling the cache | rebuild, warm cache | reference (no cache) | rebuild / cold | rebuild = reference |',
      '|---|---|---|---|---|---|---:|---|',
      ...rows,
      '',
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--write') await writeOurs(process.argv[3]!, process.argv[4]!, process.argv[5]);
else await main();
