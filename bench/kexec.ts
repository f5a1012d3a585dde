/**
 * Benchmark: the kexec tarball of the example system with a payload, written by this
 * project (squashfs, ramdisk, image, script and tarball from the plan, no staging copy),
 * against the steps nixpkgs and nixos-generators run for the same plan: make-squashfs
 * (`mksquashfs` with its flags, all cores), makeInitrdNG (copy of the squashfs into a
 * root, `find | sort | cpio -o -H newc -R +0:+0 --reproducible | zstd -10` after the
 * stage-1 initrd), kexec.nix's image (`cp`, `nuke-refs` as perl), then
 * make-system-tarball of the script's closure (`cp -a`, `tar ... | pixz -t`). Each
 * contender runs as its own process under GNU time; outputs are fresh files after a `sync`.
 *
 *   node dist/bench/kexec.js [--files N] [--mib N] [--runs N]   (writes docs/benchmarks/kexec.md)
 *   node dist/bench/kexec.js --write PLAN OUT                    (one build of ours, for the timing)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { comparisonRow, cpuModel, toolVersion, freshOutput, type Measurement, numberArg, REPO, scratchDir, timed, writeResults } from './example.js';
import { buildImage } from '../src/formats/build.js';
import { planScope, queryClosure } from '../src/nix/closure.js';
import { formatRegistration } from '../src/nix/registration.js';
import { imageRoots, isKexecPlan, parsePlanJson, type KexecPlan } from '../src/plan/index.js';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

const MIB = 1 << 20;

async function closures(plan: KexecPlan) {
  return {
    system: await queryClosure(plan.toplevel, undefined, imageRoots(plan)),
    tools: await queryClosure(plan.toplevel, undefined, plan.kexec.scriptInputs),
  };
}

/** Child mode: build the tarball of a plan file into a directory, as the CLI would. */
async function writeOurs(planFile: string, outputDir: string): Promise<void> {
  const plan = parsePlanJson(readFileSync(planFile, 'utf8'), planFile);
  if (!isKexecPlan(plan)) throw new Error(`${planFile} is not a kexec plan`);
  const { system, tools } = await closures(plan);
  const scope = await planScope(plan, system);
  await buildImage({ plan, closure: system, scriptInputsClosure: tools, scope, outputDir, epoch: 1 });
}

/** The kexec plan Nix computes for the example configuration with a payload. */
function kexecPlan(work: string, files: number, mebibytes: number): string {
  const configuration = join(work, 'configuration.nix');
  writeFileSync(configuration, `{ ... }: {
  imports = [ ${join(REPO, 'example/configuration.nix')} (import ${join(REPO, 'example/payload.nix')} { files = ${files}; mebibytes = ${mebibytes}; }) ];
  networking.hostName = "bench-kexec";
}
`);
  const result = spawnSync('nix-build', ['--no-out-link', join(REPO, 'nix/eval.nix'), '-A', 'plan', '--argstr', 'formatModule', join(REPO, 'nix/formats/kexec.nix'),
    '--arg', 'configuration', configuration, '-I', `nixpkgs=${join(REPO, 'example/nixpkgs')}`],
  { encoding: 'utf8', env: { ...process.env, NIX_CONFIG: `${process.env['NIX_CONFIG'] ?? ''}\nsubstituters =` }, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`nix-build of the kexec plan failed:\n${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1)!;
}

/** The reference pipeline's steps, as one shell script run in `build`. */
function referenceScript(plan: KexecPlan, systemPaths: readonly string[], toolPaths: readonly string[], work: string, output: string): string {
  const { kexec } = plan;
  const build = join(work, 'build');
  const cores = availableParallelism();
  const image = `${build}/${kexec.imagePath.slice(1)}`;
  const script = `${build}/${kexec.script.path.slice(1)}`;
  const squashfsName = kexec.squashfs.path.slice('/nix/store/'.length);
  return [
    'set -e',
    `rm -rf ${build} && mkdir -p ${build}/squashfs ${build}/ramdisk ${build}/nix/store && cd ${build}`,
    // make-squashfs
    `cp ${work}/system-registration squashfs/nix-path-registration`,
    `(cd squashfs && mksquashfs nix-path-registration ${systemPaths.join(' ')} ../squashfs.img -no-hardlinks -keep-as-directory -all-root -b 1048576 -comp zstd -Xcompression-level ${kexec.squashfs.level} -processors ${cores} -quiet -no-progress >/dev/null)`,
    // makeInitrdNG
    'mkdir -p ramdisk/var/empty ramdisk/nix/store',
    `cp squashfs.img ramdisk/nix/store/${squashfsName}`,
    `ln -s /nix/store/${squashfsName} ramdisk/nix-store.squashfs`,
    `(cd ramdisk && find . -exec touch -h -d @1 '{}' +)`,
    `mkdir -p ${image}`,
    `cat ${kexec.initrd} > ${image}/initrd`,
    `(cd ramdisk && find . -print0 | sort -z | cpio --quiet -o -H newc -R +0:+0 --reproducible --null | zstd -q -${kexec.ramdiskCompression.level} >> ${image}/initrd)`,
    // kexec.nix's image
    `cp ${kexec.kernel} ${image}/kernel`,
    `cp ${work}/cmdline ${image}/cmdline`,
    `perl -pi -e 's|/nix/store/[a-z0-9]{32}-|/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-|g' ${image}/kernel`,
    `cp ${work}/script-text ${script} && chmod 0555 ${script}`,
    // make-system-tarball of the script's closure
    ...toolPaths.map((p) => `cp -a ${p} nix/store/`),
    `cp ${work}/tar-registration nix-path-registration`,
    `ln -s ${kexec.script.path} kexec_nixos`,
    'rm -rf squashfs squashfs.img ramdisk',
    `tar --sort=name --mtime='@1' --owner=0 --group=0 --numeric-owner -c * | pixz -t > ${output}`,
    `cd / && chmod -R u+w ${build} && rm -rf ${build}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const files = numberArg('--files', 50_000);
  const mebibytes = numberArg('--mib', 1024);
  const runs = numberArg('--runs', 1);
  const cores = availableParallelism();
  const work = scratchDir('kexec');
  try {
    const planFile = kexecPlan(work, files, mebibytes);
    const plan = parsePlanJson(readFileSync(planFile, 'utf8'), planFile);
    if (!isKexecPlan(plan)) throw new Error('not a kexec plan');
    const { system, tools } = await closures(plan);
    const systemPaths = system.registrations.map((r) => r.path).sort();
    const toolPaths = tools.registrations.map((r) => r.path).sort();
    const closureMiB = system.registrations.reduce((sum, r) => sum + r.narSize, 0) / MIB;
    writeFileSync(join(work, 'system-registration'), formatRegistration(system.registrations));
    writeFileSync(join(work, 'cmdline'), plan.kexec.cmdline);
    writeFileSync(join(work, 'script-text'), plan.kexec.script.text);
    // The reference's tar registration: the tools' records (the written paths' are ours to compute; a few hundred bytes).
    writeFileSync(join(work, 'tar-registration'), formatRegistration(tools.registrations));
    const ours = join(work, 'ours');
    const ourFile = join(ours, plan.output.fileName);
    const refFile = join(work, 'ref.tar.xz');
    const script = join(work, 'reference.sh');
    writeFileSync(script, referenceScript(plan, systemPaths, toolPaths, work, refFile));
    const reference = (): Measurement => {
      freshOutput(refFile);
      return timed('bash', [script]);
    };
    const ourRun = (): Measurement => {
      freshOutput(ourFile);
      return timed('node', [...NODE_FLAGS, join(REPO, 'dist/bench/kexec.js'), '--write', planFile, ours]);
    };
    const row = comparisonRow('kexec', runs, { run: ourRun, output: ourFile }, { run: reference, output: refFile });
    const lines = [
      '# kexec tarball against nixpkgs\' and nixos-generators\' steps',
      '',
      'Written by `node dist/bench/kexec.js` (`bench/kexec.ts`); numbers are from the run below, not edited.',
      '',
      `Machine: ${cpuModel()}, ${cores} cores; Node ${process.version}; ${toolVersion('mksquashfs', ['-version'])}; ${toolVersion('zstd', ['--version'])}; pixz ${toolVersion('dpkg-query', ['-W', '-f=${Version}', 'pixz'])}.`,
      `Input: the kexec format's system (the example configuration) with a payload of ${files.toLocaleString('en')} random files (${mebibytes} MiB): ${systemPaths.length} store paths, ${closureMiB.toFixed(0)} MiB in the squashfs; the tarball adds ${toolPaths.length} tool paths.`,
      'Ours: `nixos-generate`\'s writer for the kexec plan, one process. nixpkgs: the derivations\' steps in one build directory: mksquashfs with make-squashfs\'s flags',
      `(zstd level ${plan.kexec.squashfs.level}, -processors ${cores}), makeInitrdNG's copy + \`find | sort | cpio | zstd -${plan.kexec.ramdiskCompression.level}\`, kexec.nix's image (\`cp\`, nuke-refs' perl), make-system-tarball's \`cp -a\` + \`tar | pixz -t\`.`,
      `Each output is a fresh file after a \`sync\`, on ${work.startsWith('/dev/shm') ? 'tmpfs' : 'the disk'}; median of ${runs} run${runs === 1 ? '' : 's'}${runs > 1 ? ', alternating who goes first' : ''}; peak is the largest resident set of any process.`,
      'The payload is random bytes: the squashfs is about as large as the payload; nixpkgs compresses it again with zstd -10 in the ramdisk, this project stores it there in raw blocks, and both compress the tarball with xz.',
      '',
      '| format | this project | nixpkgs (mksquashfs + cpio + zstd + cp -a + tar + pixz -t) | time ratio | size difference |',
      '|---|---|---|---:|---:|',
      row,
      '',
    ];
    writeResults('kexec', lines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--write') await writeOurs(process.argv[3]!, process.argv[4]!);
else await main();
