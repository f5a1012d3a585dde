/**
 * Benchmark: the vm formats against what nixpkgs' qemu-vm.nix does, in the same run.
 *  - The disk a vm runner makes on first run (2 GiB): this project's runner copies the
 *    empty ext4 written at build time; nixpkgs' runs qemu-img create, mkfs.ext4 and
 *    qemu-img convert.
 *  - vm-bootloader's system disk for a closure of 1 GiB and 50,000 files: nixos-generate
 *    end to end (evaluation included, warm), against make-disk-image's steps outside its
 *    VM (staging copy, mkfs.ext4 -d, MBR, qemu-img convert). nixpkgs also boots a VM to
 *    install GRUB, which is not counted, so its time here is a lower bound.
 *
 *   node dist/bench/vm.js [--runs N]      (writes docs/benchmarks/vm.md)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, comparisonRow, cpuModel, numberArg, REPO, timed, type Measurement, writeResults } from './example.js';

const runs = numberArg('--runs', 3);
const work = mkdtempSync(join('/dev/shm', 'ngts-bench-vm-'));
const scratch = mkdtempSync(join(tmpdir(), 'ngts-bench-vm-'));

function out(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${command} failed:\n${result.stderr}`);
  return result.stdout;
}

function sh(script: string): Measurement {
  return timed('bash', ['-euo', 'pipefail', '-c', script]);
}

function configuration(name: string, payload: boolean): string {
  const path = join(work, `${name}.nix`);
  const imports = [`${REPO}/example/configuration.nix`, ...(payload ? [`(import ${REPO}/example/payload.nix { files = 50000; mebibytes = 1024; })`] : [])];
  writeFileSync(path, `{ ... }: { imports = [ ${imports.join(' ')} ]; networking.hostName = "bench-vm"; }\n`);
  return path;
}

function build(format: string, config: string, dir: string): Measurement {
  return timed(CLI, ['-f', format, '-c', config, '-I', `nixpkgs=${REPO}/example/nixpkgs`, '-o', dir]);
}

try {
  // 1. The first-run disk.
  const vmDir = join(work, 'vm');
  build('vm', configuration('vm', false), vmDir);
  const template = join(vmDir, 'empty-disk.qcow2');
  const disk = (name: string): string => join(work, name);
  const firstRun = comparisonRow('first-run disk, 2 GiB ext4 as qcow2', Math.max(runs, 5), {
    run: () => { rmSync(disk('ours.qcow2'), { force: true }); return timed('cp', [template, disk('ours.qcow2')]); },
    output: disk('ours.qcow2'),
  }, {
    run: () => sh(`rm -f ${disk('ref.qcow2')}; t=$(mktemp -p ${scratch}); qemu-img create -q -f raw "$t" 2048M; mkfs.ext4 -q -L nixos "$t"; ` +
      `qemu-img convert -f raw -O qcow2 "$t" ${disk('ref.qcow2')}; rm "$t"`),
    output: disk('ref.qcow2'),
  });

  // 2. vm-bootloader's system disk.
  const bootConfig = configuration('bootloader', true);
  const oursDir = join(work, 'bootloader');
  build('vm-bootloader', bootConfig, oursDir); // warm: Nix builds the system once
  const toplevel = readlinkSync(join(oursDir, 'system'));
  const paths = out('nix-store', ['--query', '--requisites', toplevel]).trim().split('\n');
  const staging = join(scratch, 'staging');
  const raw = join(scratch, 'disk.raw');
  const refOutput = join(work, 'ref-nixos.qcow2');
  const systemDisk = comparisonRow('vm-bootloader nixos.qcow2, 1 GiB closure', runs, {
    run: () => build('vm-bootloader', bootConfig, oursDir),
    output: join(oursDir, 'nixos.qcow2'),
  }, {
    // make-disk-image (legacy, auto size): the closure staged with its database, a block
    // per file and inode plus 5.2 % (additionalSpace 0M for qemu-vm), MBR, mkfs.ext4 -d,
    // qemu-img convert.
    run: () => sh(`rm -rf ${staging} ${raw} ${refOutput}; mkdir -p ${staging}/nix/store ${staging}/nix/var/nix/profiles ${staging}/etc; ` +
      `cp -a ${paths.join(' ')} ${staging}/nix/store/; nix-store --dump-db ${paths.join(' ')} | nix-store --store local?root=${staging} --load-db; ` +
      `ln -s ${toplevel} ${staging}/nix/var/nix/profiles/system-1-link; ln -s system-1-link ${staging}/nix/var/nix/profiles/system; touch ${staging}/etc/NIXOS; ` +
      `blocks=$(du -s --apparent-size --block-size=4096 ${staging} | cut -f1); inodes=$(find ${staging} | wc -l); ` +
      `mib=$(( (blocks + inodes) * 4096 * 1052 / 1000 / 1048576 + 1 )); ` +
      `truncate -s "$(( mib + 1 ))M" ${raw}; echo 'start=2048, type=83, bootable' | sfdisk -q ${raw}; ` +
      `mkfs.ext4 -q -b 4096 -F -L nixos -d ${staging} -E offset=1048576 ${raw} "$(( mib * 1024 ))K"; ` +
      `qemu-img convert -f raw -O qcow2 ${raw} ${refOutput}; rm -rf ${staging} ${raw}`),
    output: refOutput,
  });

  const lines = [
    '# Benchmark: the vm formats',
    '',
    'Written by `node dist/bench/vm.js` (see `bench/vm.ts`); numbers are from the run below, not edited.',
    '',
    `Machine: ${cpuModel()}, ${out('nproc', []).trim()} cores; warm page cache; median of ${runs} runs (5 for the first-run disk), interleaved; outputs on tmpfs.`,
    '',
    '| what | this project | nixpkgs\' steps | time ratio | size difference |',
    '|---|---|---|---:|---:|',
    firstRun,
    systemDisk,
    '',
    '- **First-run disk**: what the runner does the first time it starts (nothing the second',
    '  time). Ours copies `empty-disk.qcow2`; nixpkgs\' runner creates a raw file, runs',
    '  `mkfs.ext4 -L nixos` on it and converts it to qcow2.',
    '- **vm-bootloader**: ours is the whole `nixos-generate -f vm-bootloader` run',
    '  (evaluation, the closure query, the disk with GRUB, the qcow2), with a 2 GiB disk',
    '  (vm.nix\'s default). The reference is make-disk-image\'s work outside its VM only:',
    '  the staging copy with the Nix database, `mkfs.ext4 -d` and `qemu-img convert` of a',
    '  closure-sized disk. nixpkgs then boots that VM to install GRUB, which is not counted.',
    '  So the reference time is a lower bound.',
    '',
  ];
  writeResults('vm', lines);
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}
