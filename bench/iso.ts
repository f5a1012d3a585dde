/**
 * Benchmark: a live ISO of the example system with a payload, written by this project in
 * one pass (the squashfs streamed into the ISO), against nixpkgs' pipeline on the same
 * closure and the same ISO tree: mksquashfs with make-squashfs.nix's flags and all cores,
 * then xorriso with make-iso9660-image.sh's flags, at zstd level 19 (nixpkgs' default) and
 * at a fast level. Each contender runs as its own process under GNU time (wall time and
 * peak memory); outputs are fresh files after a `sync`.
 *
 *   node dist/bench/iso.js [--files N] [--mib N] [--runs N] [--disk 1]   (writes docs/benchmarks/iso.md)
 *   node dist/bench/iso.js --write PLAN OUT                               (one build of ours, for the timing)
 */
import { availableParallelism } from 'node:os';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { comparisonRow, cpuModel, exampleWithPayload, freshOutput, type Measurement, numberArg, REPO, runShell, scratchDir, timed, writeResults } from './example.js';
import { buildImage } from '../src/formats/build.js';
import { defaultSyslinuxTheme } from '../src/formats/live-plan.js';
import { planScope, queryClosure } from '../src/nix/closure.js';
import { formatRegistration } from '../src/nix/registration.js';
import { parsePlanJson } from '../src/plan/index.js';
import type { LivePlan } from '../src/plan/types.js';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

const MIB = 1 << 20;

/** Child mode: build the ISO of a plan file into a directory, as the CLI would. */
async function writeOurs(planFile: string, outputDir: string): Promise<void> {
  const plan = parsePlanJson(readFileSync(planFile, 'utf8'), planFile);
  const closure = await queryClosure(plan.toplevel);
  const scope = await planScope(plan, closure);
  await buildImage({ plan, closure, scope, outputDir, epoch: 1 });
}

function nixBuild(attribute: string): string {
  const result = spawnSync('nix-build', ['--no-out-link', join(REPO, 'example/nixpkgs'), '-A', attribute], {
    encoding: 'utf8', env: { ...process.env, NIX_CONFIG: `${process.env['NIX_CONFIG'] ?? ''}\nsubstituters =` },
  });
  if (result.status !== 0) throw new Error(`nix-build -A ${attribute} failed:\n${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1)!;
}

/** The iso format's plan for a system built without it: the stand-in's syslinux and EFI GRUB. */
function livePlan(toplevel: string, level: number): LivePlan {
  const syslinux = nixBuild('syslinux');
  const grub = nixBuild('grub2_efi');
  return {
    version: 1, kind: 'live', format: 'iso', toplevel,
    live: {
      volumeId: 'nixos-25.05-x86_64',
      squashfs: { algorithm: 'zstd', level, blockSize: MIB },
      contents: [],
      bios: { syslinux },
      efi: { grub, efiArch: 'x64' },
      usb: true,
      menu: {
        timeout: 10, distroName: 'NixOS', label: 'bench', prepend: '', append: ' Installer', configurationName: null,
        showConfiguration: true, syslinuxTheme: defaultSyslinuxTheme('NixOS'), forceTextMode: false, memtest: null,
      },
      storeContents: [toplevel],
    },
    output: { container: 'iso', fileName: 'bench.iso', compression: 'none' },
  };
}

async function main(): Promise<void> {
  const files = numberArg('--files', 50_000);
  const mebibytes = numberArg('--mib', 1024);
  const runs = numberArg('--runs', 3);
  const cores = availableParallelism();
  const work = scratchDir('iso');
  try {
    const toplevel = exampleWithPayload('bench-iso', files, mebibytes);
    const closure = await queryClosure(toplevel);
    const paths = closure.registrations.map((r) => r.path).sort();
    const closureMiB = closure.registrations.reduce((sum, r) => sum + r.narSize, 0) / MIB;
    writeFileSync(join(work, 'nix-path-registration'), formatRegistration(closure.registrations));
    const rows: string[] = [];
    for (const level of [19, 3]) {
      const planFile = join(work, `plan-${level}.json`);
      writeFileSync(planFile, JSON.stringify(livePlan(toplevel, level)));
      const ours = join(work, 'ours');
      const ourIso = join(ours, 'bench.iso');
      // The reference gets the same ISO tree: ours, extracted once, without its squashfs.
      const tree = join(work, 'tree');
      if (level === 19) {
        await writeOurs(planFile, ours);
        runShell(`osirrox -indev stdio:${ourIso} -extract / ${tree} && chmod -R u+w ${tree} && rm -f ${tree}/nix-store.squashfs ${tree}/.boot.cat`);
      }
      const refSquashfs = join(work, 'nix-store.squashfs');
      const refIso = join(work, 'ref.iso');
      const syslinux = JSON.parse(readFileSync(planFile, 'utf8')).live.bios.syslinux as string;
      const reference = (): Measurement => {
        freshOutput(refSquashfs);
        freshOutput(refIso);
        const squash = timed('mksquashfs', [join(work, 'nix-path-registration'), ...paths, refSquashfs, '-no-hardlinks', '-keep-as-directory', '-all-root',
          '-b', String(MIB), '-comp', 'zstd', '-Xcompression-level', String(level), '-processors', String(cores), '-root-mode', '0755', '-quiet', '-no-progress']);
        const iso = timed('xorriso', ['-boot_image', 'any', 'gpt_disk_guid=daed2280b91e42c0aed682c825ca41f3', '-volume_date', 'all_file_dates', '=1',
          '-as', 'mkisofs', '-iso-level', '3', '-volid', 'nixos-25.05-x86_64', '-appid', 'nixos', '-publisher', 'nixos', '-graft-points',
          '-full-iso9660-filenames', '-joliet', '-eltorito-boot', 'isolinux/isolinux.bin', '-eltorito-catalog', '.boot.cat', '-no-emul-boot',
          '-boot-load-size', '4', '-boot-info-table', '--sort-weight', '1', '/isolinux', '-isohybrid-mbr', `${syslinux}/share/syslinux/isohdpfx.bin`,
          '-eltorito-alt-boot', '-e', 'boot/efi.img', '-no-emul-boot', '-isohybrid-gpt-basdat', '-r', '-quiet',
          `/=${tree}`, `/nix-store.squashfs=${refSquashfs}`, '-output', `stdio:${refIso}`]);
        return { seconds: squash.seconds + iso.seconds, peakKiB: Math.max(squash.peakKiB, iso.peakKiB) };
      };
      const ourRun = (): Measurement => {
        freshOutput(ourIso);
        return timed('node', [...NODE_FLAGS, join(REPO, 'dist/bench/iso.js'), '--write', planFile, ours]);
      };
      rows.push(comparisonRow(`zstd ${level}`, runs, { run: ourRun, output: ourIso }, { run: reference, output: refIso }));
      process.stderr.write(`${rows.at(-1)}\n`);
    }
    const cpu = cpuModel();
    const version = (command: string, args: string[]): string => spawnSync(command, args, { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
    const lines = [
      '# Live ISO against nixpkgs\' pipeline',
      '',
      'Written by `node dist/bench/iso.js` (`bench/iso.ts`); numbers are from the run below, not edited.',
      '',
      `Machine: ${cpu}, ${cores} cores; Node ${process.version}; ${version('mksquashfs', ['-version'])}; ${version('xorriso', ['-version'])}.`,
      `Input: the example system with a payload of ${files.toLocaleString('en')} random files (${mebibytes} MiB): ${paths.length} store paths, ${closureMiB.toFixed(0)} MiB.`,
      `Ours: \`nixos-generate\`'s writer for the iso format's plan, one process. nixpkgs: mksquashfs (make-squashfs.nix's flags, -processors ${cores}) then xorriso`,
      '(make-iso9660-image.sh\'s flags) over the same ISO tree. Each output is a fresh file after a `sync`, on ' + (work.startsWith('/dev/shm') ? 'tmpfs' : 'the disk') + `; median of ${runs} runs, alternating who goes first; peak is the largest resident set of any process.`,
      'The payload is random bytes, which no compressor shrinks: the closure\'s real files are a small part of it.',
      '',
      '| squashfs | this project | nixpkgs (mksquashfs + xorriso) | time ratio | size difference |',
      '|---|---|---|---:|---:|',
      ...rows,
      '',
    ];
    writeResults('iso', lines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--write') await writeOurs(process.argv[3]!, process.argv[4]!);
else await main();
