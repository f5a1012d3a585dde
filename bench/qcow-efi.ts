/**
 * Benchmark: a qcow-efi image of a closure of at least 1 GiB and 50,000 files, built
 * by nixos-generate and by the conventional pipeline (copy the closure into a staging
 * tree, `mkfs.ext4 -d` into the disk, FAT ESP with mkfs.vfat + mcopy, GPT with sgdisk,
 * `qemu-img convert` to qcow2), in the same run, on the same warm page cache.
 *
 *   node dist/bench/qcow-efi.js [--runs N]      (writes docs/benchmarks/qcow-efi.md)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CLI, cpuModel, exampleWithPayload, type Measurement, median, REPO, timed } from './example.js';

const MIB = 1 << 20;

function sh(script: string): Measurement {
  return timed('bash', ['-euo', 'pipefail', '-c', script]);
}

function out(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${command} failed:\n${result.stderr}`);
  return result.stdout;
}

function closureStats(toplevel: string): { paths: string[]; files: number; bytes: number } {
  const paths = out('nix-store', ['--query', '--requisites', toplevel]).trim().split('\n');
  const files = Number(out('bash', ['-c', `find ${paths.join(' ')} -type f | wc -l`]).trim());
  const bytes = Number(out('du', ['-sbc', ...paths]).trim().split('\n').at(-1)!.split('\t')[0]);
  return { paths, files, bytes };
}

function ours(toplevel: string, dir: string): Measurement {
  return timed(CLI, ['--toplevel', toplevel, '-f', 'qcow-efi', '-o', dir]);
}

/** The conventional pipeline, step by step; wall time summed, peak = largest step. */
function conventional(toplevel: string, paths: string[], work: string): { total: Measurement; steps: Record<string, Measurement> } {
  const staging = join(work, 'staging');
  const disk = join(work, 'disk.raw');
  const steps: Record<string, Measurement> = {};
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(staging, 'nix/store'), { recursive: true });
  steps['copy closure to staging'] = sh(`cp -a ${paths.join(' ')} ${staging}/nix/store/ && ` +
    `nix-store --dump-db ${paths.join(' ')} | nix-store --store local?root=${staging} --load-db && ` +
    `mkdir -p ${staging}/nix/var/nix/profiles ${staging}/etc && ln -s ${toplevel} ${staging}/nix/var/nix/profiles/system-1-link && ` +
    `ln -s system-1-link ${staging}/nix/var/nix/profiles/system && touch ${staging}/etc/NIXOS`);
  // make-disk-image's auto size: du of the tree rounded to 4 KiB, + 5.2 %, + 512 MiB, + the ESP.
  const kib = Number(out('du', ['-s', '--apparent-size', '--block-size=4096', staging]).split('\t')[0]) * 4;
  const rootMiB = Math.ceil((kib * 1024 * 1.052) / MIB) + 512;
  const diskMiB = 257 + rootMiB + 1;
  steps['partition (sgdisk)'] = sh(`truncate -s ${diskMiB}M ${disk} && sgdisk -o -n 1:16384:526335 -t 1:EF00 -c 1:ESP -n 2:526336:$(( ${diskMiB} * 2048 - 2049 )) -c 2:primary ${disk} >/dev/null`);
  steps['mkfs.ext4 -d'] = sh(`mkfs.ext4 -q -b 4096 -F -L nixos -d ${staging} -E offset=$((526336 * 512)) ${disk} ${rootMiB * 1024}K`);
  steps['ESP (mkfs.vfat + mcopy)'] = sh(`rm -f ${work}/esp.img && mkfs.vfat -C -n ESP ${work}/esp.img $((249 * 1024)) >/dev/null && ` +
    `MTOOLS_SKIP_CHECK=1 mcopy -s -i ${work}/esp.img $(readlink -f ${toplevel}/kernel) $(readlink -f ${toplevel}/initrd) ::/ && ` +
    `dd if=${work}/esp.img of=${disk} bs=1M seek=8 conv=notrunc,sparse status=none`);
  steps['qemu-img convert'] = timed('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', disk, join(work, 'nixos.qcow2')]);
  const values = Object.values(steps);
  return {
    total: { seconds: values.reduce((s, m) => s + m.seconds, 0), peakKiB: Math.max(...values.map((m) => m.peakKiB)) },
    steps,
  };
}

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] ?? 3) || 3;
const work = mkdtempSync(join(tmpdir(), 'ngts-bench-'));
try {
  const toplevel = exampleWithPayload('bench', 50_000, 1024);
  const stats = closureStats(toplevel);
  const oursRuns: Measurement[] = [];
  const convRuns: ReturnType<typeof conventional>[] = [];
  ours(toplevel, join(work, 'warm'));
  for (let i = 0; i < runs; i++) {
    convRuns.push(conventional(toplevel, stats.paths, join(work, 'conventional')));
    rmSync(join(work, 'conventional'), { recursive: true, force: true });
    oursRuns.push(ours(toplevel, join(work, 'ours')));
  }
  const oursSize = statSync(join(work, 'ours/nixos.qcow2')).size;
  const oursWall = median(oursRuns.map((m) => m.seconds));
  const convWall = median(convRuns.map((r) => r.total.seconds));

  const cpu = cpuModel();
  const lines = [
    '# Benchmarks',
    '',
    'Written by `node dist/bench/qcow-efi.js` (see `bench/qcow-efi.ts`); numbers are from the run below, not edited.',
    '',
    `## qcow-efi of a ${(stats.bytes / 2 ** 30).toFixed(2)} GiB, ${stats.files.toLocaleString('en')}-file closure`,
    '',
    `Machine: ${cpu}, ${out('nproc', []).trim()} cores; warm page cache; median of ${runs} runs each, interleaved.`,
    `Closure: the example system plus a synthetic payload (${stats.paths.length} store paths).`,
    '',
    '| pipeline | wall time (s) | peak memory (MiB) |',
    '|---|---:|---:|',
    `| nixos-generate (this project) | ${oursWall.toFixed(2)} | ${(median(oursRuns.map((m) => m.peakKiB)) / 1024).toFixed(0)} |`,
    `| conventional: staging copy + mkfs.ext4 -d + qemu-img convert | ${convWall.toFixed(2)} | ${(median(convRuns.map((r) => r.total.peakKiB)) / 1024).toFixed(0)} |`,
    '',
    `Ratio: **${(oursWall / convWall).toFixed(2)}x** the conventional wall time (target: at most 0.25x). Our qcow2: ${(oursSize / MIB).toFixed(0)} MiB.`,
    '',
    'Conventional pipeline by step (last run):',
    '',
    '| step | wall time (s) | peak memory (MiB) |',
    '|---|---:|---:|',
    ...Object.entries(convRuns.at(-1)!.steps).map(([k, v]) => `| ${k} | ${v.seconds.toFixed(2)} | ${(v.peakKiB / 1024).toFixed(0)} |`),
    '',
    'Peak memory against closure size (files and bytes separately): [memory.md](memory.md).',
    '',
  ];
  writeFileSync(join(REPO, "docs/benchmarks/qcow-efi.md"), lines.join("\n"));
  process.stdout.write(lines.join('\n'));
  void basename;
} finally {
  rmSync(work, { recursive: true, force: true });
}
