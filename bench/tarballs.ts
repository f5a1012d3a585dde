/**
 * Benchmark: the docker, lxc and proxmox-lxc root tarballs of the example system with a payload, written by this
 * project (the tree streamed from the store into tar and parallel xz, no staging copy),
 * against nixpkgs' make-system-tarball.sh on the same closure: `cp -a` of the contents and
 * of every store path into a build directory, then `tar --sort=name --mtime=@1 --owner=0
 * --group=0 --numeric-owner -c * | pixz -t`. Each contender runs as its own process under
 * GNU time (wall time and peak memory); outputs are fresh files after a `sync`.
 *
 *   node dist/bench/tarballs.js [--files N] [--mib N] [--runs N]   (writes docs/benchmarks/tarballs.md)
 *   node dist/bench/tarballs.js --write PLAN OUT                    (one build of ours, for the timing)
 */
import { availableParallelism } from 'node:os';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparisonRow, cpuModel, toolVersion, exampleWithPayload, freshOutput, type Measurement, numberArg, REPO, scratchDir, timed, writeResults } from './example.js';
import { buildImage } from '../src/formats/build.js';
import { isTarballFormat } from '../src/formats/format.js';
import { findFormat } from '../src/formats/registry.js';
import { tarballPlanForToplevel } from '../src/formats/tarball-plan.js';
import { planScope, queryClosure } from '../src/nix/closure.js';
import { formatRegistration } from '../src/nix/registration.js';
import { isTarballPlan, parsePlanJson, type TarballPlan } from '../src/plan/index.js';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

const MIB = 1 << 20;
/** The container formats whose tarball a built system determines (lxc-metadata's comes from the configuration). */
const TARBALL_FORMATS = ['docker', 'lxc', 'proxmox-lxc'] as const;

/** Child mode: build the tarball of a plan file into a directory, as the CLI would. */
async function writeOurs(planFile: string, outputDir: string): Promise<void> {
  const plan = parsePlanJson(readFileSync(planFile, 'utf8'), planFile);
  if (!isTarballPlan(plan)) throw new Error(`${planFile} is not a tarball plan`);
  const closure = await queryClosure(plan.toplevel, undefined, plan.tarball.storePaths);
  const scope = await planScope(plan, closure);
  await buildImage({ plan, closure, scope, outputDir, epoch: 1 });
}

/** make-system-tarball.sh's steps for a tarball plan's root, as one shell script. */
function referenceScript(plan: TarballPlan, paths: readonly string[], registration: string, build: string, output: string): string {
  const { tarball } = plan;
  const strip = (path: string): string => path.replace(/^\/+/, '');
  return [
    'set -e',
    `rm -rf ${build} && mkdir -p ${build} && cd ${build}`,
    ...tarball.contents.map(({ source, target }) => `mkdir -p "$(dirname './${strip(target)}')" && cp -a '${source}' './${strip(target)}'`),
    'chmod +w .',
    'mkdir -p nix/store',
    ...paths.map((p) => `cp -a ${p} nix/store/`),
    `cp ${registration} nix-path-registration`,
    ...tarball.symlinks.map(({ object, path }) => `mkdir -p "$(dirname './${path}')" && ln -s ${object} './${path}'`),
    ...tarball.commands.map((c) => (c.op === 'rm' ? `rm '${c.path}'` : `mkdir -p '${c.path}'`)),
    `tar --sort=name --mtime='@1' --owner=0 --group=0 --numeric-owner -c * --owner=0 | pixz -t > ${output}`,
    `cd / && chmod -R u+w ${build} && rm -rf ${build}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const files = numberArg('--files', 50_000);
  const mebibytes = numberArg('--mib', 1024);
  const runs = numberArg('--runs', 1);
  const cores = availableParallelism();
  const work = scratchDir('tarballs');
  try {
    const toplevel = exampleWithPayload('bench-tarball', files, mebibytes);
    const closure = await queryClosure(toplevel);
    const closureMiB = closure.registrations.reduce((sum, r) => sum + r.narSize, 0) / MIB;
    const rows: string[] = [];
    let storePaths = 0;
    for (const name of TARBALL_FORMATS) {
      const format = findFormat(name);
      if (!isTarballFormat(format)) throw new Error(`${name} is not a tarball format`);
      const plan = tarballPlanForToplevel(format, toplevel);
      const planClosure = await queryClosure(toplevel, undefined, plan.tarball.storePaths);
      const paths = planClosure.registrations.map((r) => r.path).sort();
      storePaths = Math.max(storePaths, paths.length);
      const registration = join(work, `${name}-registration`);
      writeFileSync(registration, formatRegistration(planClosure.registrations));
      const planFile = join(work, `${name}-plan.json`);
      writeFileSync(planFile, JSON.stringify(plan));
      const ours = join(work, `${name}-ours`);
      const ourFile = join(ours, plan.output.fileName);
      const refFile = join(work, `${name}-ref.tar.xz`);
      const script = join(work, `${name}-reference.sh`);
      writeFileSync(script, referenceScript(plan, paths, registration, join(work, 'build'), refFile));
      const reference = (): Measurement => {
        freshOutput(refFile);
        return timed('bash', [script]);
      };
      const ourRun = (): Measurement => {
        freshOutput(ourFile);
        return timed('node', [...NODE_FLAGS, join(REPO, 'dist/bench/tarballs.js'), '--write', planFile, ours]);
      };
      rows.push(comparisonRow(name, runs, { run: ourRun, output: ourFile }, { run: reference, output: refFile }));
      rmSync(ours, { recursive: true, force: true });
      rmSync(refFile, { force: true });
    }
    const lines = [
      '# System tarball against nixpkgs\' make-system-tarball',
      '',
      'Written by `node dist/bench/tarballs.js` (`bench/tarballs.ts`); numbers are from the run below, not edited.',
      '',
      `Machine: ${cpuModel()}, ${cores} cores; Node ${process.version}; ${toolVersion('tar', ['--version'])}; pixz ${toolVersion('dpkg-query', ['-W', '-f=${Version}', 'pixz'])}.`,
      `Input: the example system with a payload of ${files.toLocaleString('en')} random files (${mebibytes} MiB): up to ${storePaths} store paths, ${closureMiB.toFixed(0)} MiB.`,
      'Ours: `nixos-generate`\'s writer for each format\'s plan (from `--toplevel`), one process. nixpkgs: make-system-tarball.sh\'s steps for the same root (`cp -a` into a build',
      `directory, then \`tar --sort=name ... -c * | pixz -t\`, pixz on all cores). Each output is a fresh file after a \`sync\`, on ${work.startsWith('/dev/shm') ? 'tmpfs' : 'the disk'}; median of ${runs} run${runs === 1 ? '' : 's'}${runs > 1 ? ', alternating who goes first' : ''}; peak is the largest resident set of any process.`,
      'The payload is random bytes, which no compressor shrinks: xz (ours, and pixz\'s liblzma) spends about as long failing on such bytes as compressing text;',
      'ours stores runs of them as LZMA2 uncompressed chunks instead (docs/formats/compression.md).',
      '',
      '| format | this project | nixpkgs (cp -a + tar + pixz -t) | time ratio | size difference |',
      '|---|---|---|---:|---:|',
      ...rows,
      '',
    ];
    writeResults('tarballs', lines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--write') await writeOurs(process.argv[3]!, process.argv[4]!);
else await main();
