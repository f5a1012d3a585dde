/**
 * Benchmark: aarch64-linux images on this x86_64 machine, in the same run.
 *  1. raw-efi of the aarch64 example system with a payload of 50,000 files and 1 GiB,
 *     against raw-efi of the x86_64 example system with the same payload: both
 *     `nixos-generate -f raw-efi --toplevel` (the two systems are built first, untimed).
 *     The ratio aarch64/x86_64 says what writing an image for another architecture costs
 *     (nothing runs emulated; GRUB for arm64-efi comes from this machine's grub-mkimage).
 *  2. What nixpkgs' path costs for the same aarch64 image here. make-disk-image is an
 *     aarch64-linux derivation, so on this machine its builder's programs run emulated.
 *     Measured: its steps before the VM (staging copy, sizing, parted + sgdisk, the ext4
 *     filled from the staging tree) and stand-ins for the VM's ESP work (mkfs.vfat,
 *     grub-mkimage, the copies onto the ESP), each with Debian 12's arm64 programs under
 *     qemu-user (qemu-aarch64-static), and the same steps with this machine's x86_64
 *     programs for contrast. The VM itself is not run (see the md for what that leaves out).
 *  3. Peak memory of every run (GNU time).
 *
 * Needs: qemu-user-static (apt-get install qemu-user-static), GNU time, example/fetch-debs
 * run once (its arm64 apt configuration, example/debs/.apt-arm64/apt.conf, is what fetches
 * the arm64 tools; the amd64 parted comes from the host's apt), and the network for
 * `apt-get download`. Outputs on /dev/shm (tmpfs).
 *
 *   node dist/bench/aarch64.js [--runs N]      (writes docs/benchmarks/aarch64.md)
 *
 * Our two rows use max(N, 5) runs (a run is about 5 s and the ratio is the point), the
 * reference rows N (default 3); every round runs all four in a rotating order.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cpuModel, exampleWithPayload, median, numberArg, REPO, scratchDir, timed, toolVersion, type Measurement, writeResults } from './example.js';

const PAYLOAD_FILES = 50_000;
const PAYLOAD_MIB = 1024;
const runs = numberArg('--runs', 3);
const ourRuns = Math.max(runs, 5);
const MIB = 1 << 20;

/** Debian 12's arm64 packages the emulated steps run (programs and their libraries). */
const ARM64_PACKAGES = [
  'libc6', 'coreutils', 'findutils', 'e2fsprogs', 'libext2fs2', 'libcom-err2', 'libss2', 'libblkid1', 'libuuid1',
  'libacl1', 'libattr1', 'libgmp10', 'libselinux1', 'libpcre2-8-0', 'parted', 'libparted2', 'libreadline8', 'libtinfo6',
  'libdevmapper1.02.1', 'libudev1', 'gdisk', 'libgcc-s1', 'libstdc++6', 'libncursesw6', 'libpopt0', 'dosfstools',
  'mtools', 'grub-common', 'liblzma5',
];
/** Programs of the steps (the shell glue between them, partx, cut, wc and nix-store, runs natively in both columns). */
const TOOLS = ['cp', 'find', 'du', 'truncate', 'parted', 'sgdisk', 'mkfs.ext4', 'mkfs.vfat', 'grub-mkimage', 'mmd', 'mcopy', 'dd'] as const;
type Tool = (typeof TOOLS)[number];

function out(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

function sh(script: string): Measurement {
  return timed('bash', ['-euo', 'pipefail', '-c', script]);
}

/** Shell quoting for the generated step scripts. */
function q(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

function closureStats(toplevel: string): { paths: string[]; files: number; bytes: number } {
  const paths = out('nix-store', ['--query', '--requisites', toplevel]).trim().split('\n');
  const files = Number(out('bash', ['-c', `find ${paths.join(' ')} -type f | wc -l`]).trim());
  const bytes = Number(out('du', ['-sbc', ...paths]).trim().split('\n').at(-1)!.split('\t')[0]);
  return { paths, files, bytes };
}

/** `apt-get download` of `packages` into `dir`, unpacked into `dir`/root; returns the root. */
function unpackDebs(dir: string, packages: readonly string[], aptConfig: string | undefined): string {
  mkdirSync(dir, { recursive: true });
  const env = aptConfig === undefined ? process.env : { ...process.env, APT_CONFIG: aptConfig };
  out('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', ...packages], { cwd: dir, env });
  const root = join(dir, 'root');
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb')).sort()) out('dpkg-deb', ['-x', join(dir, deb), root]);
  return root;
}

function debVersion(dir: string, name: string): string {
  const deb = readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  return deb === undefined ? '?' : out('dpkg-deb', ['-f', join(dir, deb), 'Version']).trim();
}

/** How each step calls a tool: the arm64 program under qemu-user, or this machine's. */
function emulatedTools(root: string): Record<Tool, string> {
  const qemu = out('bash', ['-c', 'command -v qemu-aarch64-static']).trim();
  const entries = TOOLS.map((tool) => {
    const found = ['bin', 'sbin', 'usr/bin', 'usr/sbin'].map((d) => join(root, d, tool)).find((p) => existsSync(p));
    if (found === undefined) throw new Error(`the arm64 packages hold no ${tool}`);
    return [tool, `${qemu} -L ${q(root)} ${q(found)}`] as const;
  });
  return Object.fromEntries(entries) as Record<Tool, string>;
}

function nativeTools(partedRoot: string): Record<Tool, string> {
  const entries = TOOLS.map((tool) => {
    if (tool === 'parted') {
      // Not installed here: Debian 12's amd64 parted, run from its unpacked package.
      return [tool, `env LD_LIBRARY_PATH=${q(join(partedRoot, 'lib/x86_64-linux-gnu'))} ${q(join(partedRoot, 'sbin/parted'))}`] as const;
    }
    const found = spawnSync('bash', ['-c', `PATH="$PATH:/usr/sbin:/sbin" command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found === '') throw new Error(`${tool} not found on this machine (apt-get install e2fsprogs dosfstools mtools gdisk grub-common)`);
    return [tool, found] as const;
  });
  return Object.fromEntries(entries) as Record<Tool, string>;
}

interface ReferenceRun {
  readonly total: Measurement;
  readonly steps: Record<string, Measurement>;
  readonly imageBytes: number;
}

const STEP_NOTES: Record<string, string> = {
  'staging copy (cp -a)': 'the closure copied into the staging root (nixos-install\'s `nix copy` there)',
  'Nix database + profile': '`nix-store --load-db` into the staging root, the system profile links (native in both)',
  'sizing (find, du) + truncate': 'make-disk-image\'s automatic size: blocks of the files, two per inode, +5.2 %, +512 MiB, +ESP',
  'partition (parted + sgdisk)': 'parted\'s GPT with the ESP from 8 MiB to 256M, sgdisk\'s fixed GUIDs (deterministic)',
  'ext4 (mkfs.ext4 -d)': 'the root partition\'s ext4 filled from the staging tree',
  'ESP (mkfs.vfat, grub-mkimage, mcopy, dd)': 'stand-in for the VM\'s ESP and grub-install: FAT, GRUB\'s arm64-efi image and modules, kernel and initrd',
};

/** make-disk-image (efi, auto size) for the aarch64 system with the given tools; wall time summed, peak = largest step. */
function reference(tools: Record<Tool, string>, toplevel: string, paths: readonly string[], grub: string, work: string): ReferenceRun {
  rmSync(work, { recursive: true, force: true });
  const root = join(work, 'root');
  const disk = join(work, 'nixos.raw');
  const esp = join(work, 'esp.img');
  mkdirSync(join(root, 'nix/store'), { recursive: true });
  spawnSync('sync');
  const all = paths.map(q).join(' ');
  const steps: Record<string, Measurement> = {};
  steps['staging copy (cp -a)'] = sh(`${tools.cp} -a ${all} ${q(join(root, 'nix/store'))}/`);
  steps['Nix database + profile'] = sh(`nix-store --dump-db ${all} | nix-store --store ${q(`local?root=${root}`)} --load-db && ` +
    `mkdir -p ${q(join(root, 'nix/var/nix/profiles'))} ${q(join(root, 'etc'))} && ln -s ${q(toplevel)} ${q(join(root, 'nix/var/nix/profiles/system-1-link'))} && ` +
    `ln -s system-1-link ${q(join(root, 'nix/var/nix/profiles/system'))} && touch ${q(join(root, 'etc/NIXOS'))}`);
  // make-disk-image's sum_lines, compute_fudge and additionalSpace (512M + GPT + bootSize 256M), rounded up to MiB.
  steps['sizing (find, du) + truncate'] = sh(`cd ${q(root)}; sum_lines() { local acc=0; while read -r n; do acc=$((acc+n)); done; echo "$acc"; }; ` +
    `usage=$(${tools.find} . ! -type d -print0 | ${tools.du} --files0-from=- --apparent-size --block-size 4096 | cut -f1 | sum_lines); ` +
    `inodes=$(${tools.find} . | wc -l); usage=$(( (usage + 2 * inodes) * 4096 )); ` +
    `size=$(( usage + usage * 52 / 1000 + 512 * 1048576 + 512 * 34 + 256 * 1048576 )); ` +
    `if (( size % 1048576 )); then size=$(( (size / 1048576 + 1) * 1048576 )); fi; ${tools.truncate} -s "$size" ${q(disk)}`);
  steps['partition (parted + sgdisk)'] = sh(`${tools.parted} --script ${q(disk)} -- mklabel gpt mkpart ESP fat32 8MiB 256M set 1 boot on mkpart primary ext4 256M -1 ` +
    `2>${q(join(work, 'parted.err'))} || { cat ${q(join(work, 'parted.err'))} >&2; exit 1; }; ` +
    `${tools.sgdisk} --disk-guid=97FD5997-D90B-4AA3-8D16-C1723AEA73C --partition-guid=1:1C06F03B-704E-4657-B9CD-681A087A2FDC ` +
    `--partition-guid=2:F222513B-DED1-49FA-B591-20CE86A2FE7F ${q(disk)} >/dev/null`);
  steps['ext4 (mkfs.ext4 -d)'] = sh(`eval "$(partx ${q(disk)} -o START,SECTORS --nr 2 --pairs)"; ` +
    `${tools['mkfs.ext4']} -q -b 4096 -F -L nixos -d ${q(root)} ${q(disk)} -E offset=$(( START * 512 )) $(( SECTORS * 512 / 1024 ))K`);
  const modules = 'part_gpt part_msdos fat ext2 search search_fs_uuid search_label normal configfile linux echo test gzio serial terminal efi_gop';
  steps['ESP (mkfs.vfat, grub-mkimage, mcopy, dd)'] = sh(`export MTOOLS_SKIP_CHECK=1; eval "$(partx ${q(disk)} -o START,SECTORS --nr 1 --pairs)"; ` +
    'if (( START % 2048 )); then echo "ESP not MiB-aligned" >&2; exit 1; fi; ' +
    `${tools['mkfs.vfat']} -C -n ESP ${q(esp)} $(( SECTORS / 2 )) >/dev/null; ` +
    `${tools['grub-mkimage']} -O arm64-efi -d ${q(`${grub}/lib/grub/arm64-efi`)} -p /grub -o ${q(join(work, 'BOOTAA64.EFI'))} ${modules}; ` +
    `${tools.mmd} -i ${q(esp)} ::/EFI ::/EFI/BOOT ::/grub ::/kernels; ${tools.mcopy} -i ${q(esp)} ${q(join(work, 'BOOTAA64.EFI'))} ::/EFI/BOOT/; ` +
    `${tools.mcopy} -s -i ${q(esp)} ${q(`${grub}/lib/grub/arm64-efi`)} ::/grub/; ` +
    `${tools.mcopy} -i ${q(esp)} "$(readlink -f ${q(`${toplevel}/kernel`)})" "$(readlink -f ${q(`${toplevel}/initrd`)})" ::/kernels/; ` +
    `${tools.dd} if=${q(esp)} of=${q(disk)} bs=1M seek=$(( START / 2048 )) conv=notrunc,sparse status=none`);
  const imageBytes = statSync(disk).size;
  rmSync(work, { recursive: true, force: true });
  const values = Object.values(steps);
  return {
    total: { seconds: values.reduce((s, m) => s + m.seconds, 0), peakKiB: Math.max(...values.map((m) => m.peakKiB)) },
    steps,
    imageBytes,
  };
}

const work = scratchDir('aarch64');
try {
  // The two systems first (untimed): the same configuration and payload, two architectures.
  const toplevels = {
    aarch64: exampleWithPayload('bench', PAYLOAD_FILES, PAYLOAD_MIB, 'aarch64-linux'),
    x86_64: exampleWithPayload('bench', PAYLOAD_FILES, PAYLOAD_MIB, 'x86_64-linux'),
  };
  const stats = { aarch64: closureStats(toplevels.aarch64), x86_64: closureStats(toplevels.x86_64) };
  const grub = stats.aarch64.paths.find((p) => /-grub-[^/]*-arm64-efi$/.test(p) && existsSync(join(p, 'lib/grub/arm64-efi')));
  if (grub === undefined) throw new Error(`no arm64-efi GRUB package in the closure of ${toplevels.aarch64}`);

  // The reference's tools: Debian 12's arm64 programs for qemu-user, and amd64 parted.
  if (spawnSync('bash', ['-c', 'command -v qemu-aarch64-static']).status !== 0) throw new Error('qemu-aarch64-static not found: apt-get install qemu-user-static');
  const aptConfig = join(REPO, 'example/debs/.apt-arm64/apt.conf');
  if (!existsSync(aptConfig)) throw new Error(`${aptConfig} is missing: run example/fetch-debs (as root) first`);
  const arm64Dir = join(work, 'arm64-debs');
  const arm64Root = unpackDebs(arm64Dir, ARM64_PACKAGES, aptConfig);
  const amd64Dir = join(work, 'amd64-debs');
  const partedRoot = unpackDebs(amd64Dir, ['parted', 'libparted2'], undefined);
  const emulated = emulatedTools(arm64Root);
  const native = nativeTools(partedRoot);

  const ourDir = (arch: string): string => join(work, `ours-${arch}`);
  const ours = (arch: 'aarch64' | 'x86_64'): Measurement => {
    rmSync(ourDir(arch), { recursive: true, force: true });
    spawnSync('sync');
    return timed(CLI, ['-f', 'raw-efi', '--toplevel', toplevels[arch], '-o', ourDir(arch)]);
  };
  // Warm: the page cache holds both closures, Node's and GRUB's caches are primed.
  ours('aarch64');
  ours('x86_64');
  reference(native, toplevels.aarch64, stats.aarch64.paths, grub, join(work, 'ref-native'));

  const measured = { aarch64: [] as Measurement[], x86_64: [] as Measurement[], native: [] as ReferenceRun[], emulated: [] as ReferenceRun[] };
  const jobs: (() => void)[] = [
    () => measured.aarch64.push(ours('aarch64')),
    () => measured.x86_64.push(ours('x86_64')),
    () => { if (measured.native.length < runs) measured.native.push(reference(native, toplevels.aarch64, stats.aarch64.paths, grub, join(work, 'ref-native'))); },
    () => { if (measured.emulated.length < runs) measured.emulated.push(reference(emulated, toplevels.aarch64, stats.aarch64.paths, grub, join(work, 'ref-emulated'))); },
  ];
  for (let round = 0; round < ourRuns; round++) {
    for (let j = 0; j < jobs.length; j++) jobs[(round + j) % jobs.length]!();
    process.stderr.write(`round ${round + 1}/${ourRuns} done\n`);
  }

  const seconds = (ms: readonly Measurement[]): number => median(ms.map((m) => m.seconds));
  const peak = (ms: readonly Measurement[]): string => (Math.max(...ms.map((m) => m.peakKiB)) / 1024).toFixed(0);
  const imageMiB = (arch: string): string => (statSync(join(ourDir(arch), 'nixos.img')).size / MIB).toFixed(0);
  const bootFiles = (arch: 'aarch64' | 'x86_64'): string =>
    `${(['kernel', 'initrd'].reduce((sum, f) => sum + statSync(join(toplevels[arch], f)).size, 0) / MIB).toFixed(1)} MiB`;
  const closure = (arch: 'aarch64' | 'x86_64'): string =>
    `${(stats[arch].bytes / 2 ** 30).toFixed(2)} GiB, ${stats[arch].files.toLocaleString('en')} files, ${stats[arch].paths.length} paths`;
  const [a64, x64] = [seconds(measured.aarch64), seconds(measured.x86_64)];
  const totals = (rs: readonly ReferenceRun[]): Measurement[] => rs.map((r) => r.total);
  const [nativeTotal, emulatedTotal] = [seconds(totals(measured.native)), seconds(totals(measured.emulated))];
  const stepRows = Object.keys(measured.native[0]!.steps).map((step) => {
    const n = seconds(measured.native.map((r) => r.steps[step]!));
    const e = seconds(measured.emulated.map((r) => r.steps[step]!));
    return `| ${step} | ${n.toFixed(2)} s, peak ${peak(measured.native.map((r) => r.steps[step]!))} MiB | ` +
      `${e.toFixed(2)} s, peak ${peak(measured.emulated.map((r) => r.steps[step]!))} MiB | ${(e / n).toFixed(2)}x | ${STEP_NOTES[step] ?? ''} |`;
  });
  const refMiB = (measured.emulated.at(-1)!.imageBytes / MIB).toFixed(0);
  const os = readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="(.*)"/)?.[1] ?? 'Linux';
  const hostE2fs = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'e2fsprogs'], { encoding: 'utf8' }).stdout.trim() || '?';

  const lines = [
    '# Benchmark: aarch64 images on an x86_64 machine',
    '',
    'Written by `node dist/bench/aarch64.js` (see `bench/aarch64.ts`); numbers are from the run below, not edited.',
    '',
    `Machine: ${cpuModel()}, ${out('nproc', []).trim()} cores, ${process.arch === 'x64' ? 'x86_64' : process.arch}, ${os}, no KVM for aarch64 ` +
      `(${toolVersion('qemu-aarch64-static', ['--version'])}); warm page cache; median of ${ourRuns} runs for our rows and ${runs} for the ` +
      'reference, interleaved (every round runs all four in a rotating order); outputs on tmpfs (/dev/shm).',
    '',
    '## raw-efi for aarch64 against raw-efi for x86_64',
    '',
    'The same example configuration with the same synthetic payload (50,000 files, 1024 MiB), built for each',
    'architecture first (every derivation on this machine, nothing emulated; not timed); then',
    '`nixos-generate -f raw-efi --toplevel <system> -o <dir>`.',
    '',
    '| system | closure | kernel + initrd | wall time | peak memory | image |',
    '|---|---|---:|---:|---:|---:|',
    `| x86_64-linux | ${closure('x86_64')} | ${bootFiles('x86_64')} | ${x64.toFixed(2)} s | ${peak(measured.x86_64)} MiB | ${imageMiB('x86_64')} MiB |`,
    `| aarch64-linux | ${closure('aarch64')} | ${bootFiles('aarch64')} | ${a64.toFixed(2)} s | ${peak(measured.aarch64)} MiB | ${imageMiB('aarch64')} MiB |`,
    '',
    `Ratio aarch64/x86_64: **${(a64 / x64).toFixed(2)}x** (target: at most 1.1x). Nothing of the target architecture runs:`,
    'the image is written by the same code, and GRUB\'s arm64-efi image is assembled by this machine\'s',
    '`grub-mkimage` (/usr/bin/grub-mkimage here) from the system\'s own GRUB modules. The closures differ',
    'in the kernel package (aarch64\'s `Image` is uncompressed, and the ESP carries it too) and in GRUB\'s.',
    '',
    '## nixpkgs\' path for the same aarch64 image, emulated',
    '',
    'nixpkgs\' `make-disk-image` is a derivation of the image\'s system, aarch64-linux. On an x86_64',
    'machine without an aarch64 builder its programs run under emulation: the steps before its VM',
    '(`preVM`: staging the closure, sizing, partitioning, the ext4) as aarch64 programs under qemu-user',
    '(binfmt), the rest (the ESP, `switch-to-configuration boot` with grub-install) inside a',
    'qemu-system-aarch64 VM without KVM, i.e. TCG. Measured here: those steps\' programs, Debian 12\'s',
    `arm64 builds (e2fsprogs ${debVersion(arm64Dir, 'e2fsprogs')}, coreutils ${debVersion(arm64Dir, 'coreutils')}, parted ${debVersion(arm64Dir, 'parted')}, ` +
      `gdisk ${debVersion(arm64Dir, 'gdisk')}, dosfstools, mtools, grub-common ${debVersion(arm64Dir, 'grub-common')}),`,
    'run one by one under `qemu-aarch64-static -L <unpacked packages>`; and, for contrast, the same steps',
    `with this machine's x86_64 programs (e2fsprogs ${hostE2fs}; parted from Debian's amd64 package). Both over the aarch64 closure above.`,
    '',
    '| step | x86_64 programs (native) | arm64 programs (qemu-user) | slowdown | what it stands for |',
    '|---|---|---|---:|---|',
    ...stepRows,
    `| **total** (median of the per-run sums) | **${nativeTotal.toFixed(2)} s**, peak ${peak(totals(measured.native))} MiB | ` +
      `**${emulatedTotal.toFixed(2)} s**, peak ${peak(totals(measured.emulated))} MiB | ${(emulatedTotal / nativeTotal).toFixed(2)}x | raw disk of ${refMiB} MiB (make-disk-image\'s auto size) |`,
    '',
    `This project\'s aarch64 raw-efi (${a64.toFixed(2)} s) is **${(a64 / emulatedTotal).toFixed(2)}x** the emulated steps\' time and ` +
      `${(a64 / nativeTotal).toFixed(2)}x the same steps run natively.`,
    '',
    '**The emulated total is a lower bound** on what nixpkgs spends for this image here:',
    '',
    '- **No VM.** The real build also boots a kernel in a qemu-system-aarch64 VM under TCG (no KVM',
    '  across architectures; vmTools\' QEMU is `buildPackages.qemu_kvm`, in a plain aarch64-linux build',
    '  itself an aarch64 program, so under qemu-user too) and there makes the ESP (`mkfs.vfat` on',
    '  `/dev/vda1`) and runs `switch-to-configuration boot` with grub-install, all through emulated',
    '  virtio. A full make-disk-image VM under qemu-system-aarch64 TCG therefore costs more than the',
    '  figure above; the ESP row only stands in for that work, on a FAT image file.',
    '- **Faster stand-ins.** nixpkgs stages the closure with `nixos-install` (`nix copy`, which',
    '  serialises and hashes every path) and fills the ext4 with `cptofs` (LKL, a Linux kernel in a',
    '  library); here `cp -a` and `mkfs.ext4 -d` (e2fsprogs) do that work, as in the project\'s other',
    '  benchmarks.',
    '- **Native glue.** Only the steps\' main programs run emulated: the shell, `partx`, `cut`, `wc` and',
    '  `nix-store --load-db` run natively in both columns (under binfmt, all of them would be arm64 too).',
    '- qemu-user is the cheaper emulation: system calls go straight to this kernel, so the staging copy,',
    '  mostly system calls, slows little; user-space work (the ext4 build\'s checksums and bitmaps) pays',
    '  the translation.',
    '',
    'Not done: a full make-disk-image build for aarch64-linux, VM included. The stand-in nixpkgs of',
    '`example/` has no make-disk-image, and this machine\'s Nix cannot build aarch64-linux derivations (no',
    'aarch64 in `extra-platforms`, no remote builder, no binfmt registration: `/proc/sys/fs/binfmt_misc`',
    'is not mounted), so nixpkgs\' own derivation cannot run here as the machine stands.',
    '',
  ];
  writeResults('aarch64', lines);
} finally {
  rmSync(work, { recursive: true, force: true });
}
