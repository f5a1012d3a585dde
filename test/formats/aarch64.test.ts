/**
 * aarch64-linux images written on this x86_64 machine without emulation: the example
 * system for aarch64 (Debian's arm64 packages, every derivation run on x86_64), raw-efi
 * and qcow-efi with GRUB for arm64-efi (assembled by this machine's grub-mkimage) and with
 * systemd-boot, the live ISO (UEFI only, as iso-image.nix makes it there), the vm-nogui
 * and vm-bootloader runners, the kexec image (by --run) and the sd-aarch64 card, each
 * booted under software emulation on QEMU's virt machine (AAVMF for UEFI, Debian's U-Boot
 * for the card); the kexec and lxc tarballs, checked for their arm64 programs. BIOS
 * formats are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlanWithNix, NIX_DIR } from '../../src/nix/evaluate.js';
import { CLI, EXAMPLE_NIXPKGS, QUICK_ISO_SQUASHFS, QUICK_NETBOOT_SQUASHFS, exampleToplevel, exampleConfiguration } from '../helpers/example.js';
import { diskPlan } from '../helpers/plans.js';
import { isLivePlan } from '../../src/plan/types.js';
import { extractRange, partitions } from '../helpers/disk.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { expectedKvmNotice, kvmNoticeMatches } from '../helpers/kvm.js';

const SYSTEM = 'aarch64-linux';
const HOST = 'arm-host';
const work = tempDir('aarch64');
after(() => work.remove());

function configuration(name: string, body: string): string {
  return exampleConfiguration(work.path, name, HOST, body);
}

function generate(formats: string, config: string, out: string): ReturnType<typeof run> {
  return run('node', [CLI, '-f', formats, '-c', config, '--system', SYSTEM, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, out)]);
}

function marker(console: string): RegExpExecArray {
  const m = MARKER.exec(console);
  assert.ok(m !== null, `no marker in:\n${console.slice(-3000)}`);
  return m;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

const grubConfig = configuration('grub', '');
const sdbootConfig = configuration('sdboot', 'boot.loader.systemd-boot.enable = true;');
let images: { raw: string; qcow: string; sdbootRaw: string; sdbootQcow: string } = { raw: '', qcow: '', sdbootRaw: '', sdbootQcow: '' };

before(() => {
  const grub = generate('raw-efi,qcow-efi', grubConfig, 'grub');
  assert.equal(grub.status, 0, grub.stderr);
  const [raw, qcow] = grub.stdout.trim().split('\n') as [string, string];
  const sdboot = generate('raw-efi,qcow-efi', sdbootConfig, 'sdboot');
  assert.equal(sdboot.status, 0, sdboot.stderr);
  const [sdbootRaw, sdbootQcow] = sdboot.stdout.trim().split('\n') as [string, string];
  images = { raw, qcow, sdbootRaw, sdbootQcow };
});

test('the aarch64 system is built on x86_64: its bootspec says aarch64-linux, its kernel is an arm64 Image and no derivation needs an aarch64 builder', () => {
  const toplevel = exampleToplevel('arm-plain', SYSTEM);
  const bootspec = JSON.parse(readFileSync(join(toplevel, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'];
  assert.equal(bootspec.system, SYSTEM);
  assert.match(bootspec.kernel, /\/Image$/);
  assert.match(runOk('file', ['-L', bootspec.kernel]).stdout, /ARM64|aarch64/i);
  assert.match(runOk('file', ['-L', join(toplevel, 'sw/bin/busybox')]).stdout, /ARM aarch64/);
  const derivations = runOk('nix-store', ['--query', '--deriver', toplevel]).stdout.trim();
  const closure = runOk('nix-store', ['--query', '--requisites', derivations]).stdout.split('\n').filter((p) => p.endsWith('.drv'));
  for (const drv of closure) {
    assert.doesNotMatch(readFileSync(drv, 'latin1'), /"system","aarch64-linux"/, `${drv} needs an aarch64 builder`);
  }
});

test('raw-efi: GRUB for arm64-efi as EFI/BOOT/BOOTAA64.EFI, assembled by the build machine\'s grub-mkimage the plan names', async () => {
  const tmp = tempDir('aarch64-esp');
  try {
    const esp = partitions(images.raw)[0]!;
    const espFile = join(tmp.path, 'esp.img');
    extractRange(images.raw, esp.start, esp.size, espFile);
    assert.equal(run('fsck.fat', ['-n', espFile]).status, 0);
    const listing = runOk('mdir', ['-i', espFile, '-/', '-b', '::/EFI']).stdout;
    assert.match(listing, /EFI\/BOOT\/BOOTAA64\.EFI/);
    assert.doesNotMatch(listing, /BOOTX64/);
    runOk('mcopy', ['-i', espFile, '::/EFI/BOOT/BOOTAA64.EFI', join(tmp.path, 'grub.efi')]);
    assert.match(runOk('file', [join(tmp.path, 'grub.efi')]).stdout, /PE32\+ executable.*Aarch64/i);
    assert.match(runOk('mdir', ['-i', espFile, '::/grub']).stdout, /arm64-efi/);
    const plan = diskPlan(await buildPlanWithNix({
      source: { kind: 'file', path: grubConfig },
      formatModule: join(NIX_DIR, 'formats', 'raw-efi.nix'),
      settings: { searchPath: [`nixpkgs=${EXAMPLE_NIXPKGS}`], options: [], showTrace: false, cores: undefined, system: SYSTEM },
      diskSize: undefined,
      specialArgs: {},
    }));
    assert.equal(plan.bootloader.type, 'grub');
    if (plan.bootloader.type !== 'grub') return;
    assert.match(plan.bootloader.efi!.package, /-grub-[^/]*-arm64-efi$/);
    assert.match(plan.bootloader.efi!.mkimage!, /-grub-[^/]*-x86_64-efi\/bin\/grub-mkimage$/);
  } finally {
    tmp.remove();
  }
});

for (const [name, image, drive, loader] of [
  ['raw-efi', () => images.raw, 'raw', /Welcome to GRUB!/],
  ['qcow-efi', () => images.qcow, 'qcow2', /Welcome to GRUB!/],
  ['raw-efi', () => images.sdbootRaw, 'raw', /EFI stub: Booting Linux Kernel/],
] as const) {
  test(`${name} boots by ${loader.source.includes('GRUB') ? 'GRUB' : 'systemd-boot'} under AAVMF on QEMU's virt machine`, async () => {
    const result = await boot(image(), drive, 'uefi', 600_000, [], SYSTEM);
    const m = marker(result.console);
    assert.equal(m[1], HOST);
    assert.equal(m[2], 'ok');
    assert.equal(m[4], 'ok');
    assert.match(result.console, loader);
    assert.match(result.console, /stage 1: example system stage 1 \(kernel 6\.\d+\.\d+-\d+-arm64\)/);
  });
}

test('qcow-efi boots by systemd-boot (systemd-bootaa64.efi) and gets the ttyAMA0 console nixos-generators adds on aarch64', async () => {
  const tmp = tempDir('aarch64-sdboot');
  try {
    const raw = join(tmp.path, 'disk.raw');
    runOk('qemu-img', ['convert', '-O', 'raw', images.sdbootQcow, raw]);
    const esp = partitions(raw)[0]!;
    extractRange(raw, esp.start, esp.size, join(tmp.path, 'esp.img'));
    const espFile = join(tmp.path, 'esp.img');
    const listing = runOk('mdir', ['-i', espFile, '-/', '-b', '::/']).stdout;
    assert.match(listing, /EFI\/BOOT\/BOOTAA64\.EFI/);
    assert.match(listing, /EFI\/systemd\/systemd-bootaa64\.efi/);
    const entry = listing.split('\n').find((l) => /loader\/entries\/.*\.conf$/.test(l.trim()))!;
    assert.match(runOk('mtype', ['-i', espFile, entry.trim()]).stdout, /^options .*console=ttyS0 console=ttyAMA0,115200( |$)/m);
  } finally {
    tmp.remove();
  }
  const result = await boot(images.sdbootQcow, 'qcow2', 'uefi', 600_000, [], SYSTEM);
  const m = marker(result.console);
  assert.equal(m[1], HOST);
  assert.equal(m[2], 'ok');
});

test('--toplevel of an aarch64 system: raw-efi with this machine\'s grub-mkimage; BIOS formats are refused with one line', () => {
  const toplevel = exampleToplevel('arm-plain', SYSTEM);
  const out = join(work.path, 'toplevel');
  const built = run('node', [CLI, '-f', 'raw-efi', '--toplevel', toplevel, '-o', out]);
  assert.equal(built.status, 0, built.stderr);
  const tmp = tempDir('aarch64-toplevel');
  try {
    const image = built.stdout.trim();
    const esp = partitions(image)[0]!;
    extractRange(image, esp.start, esp.size, join(tmp.path, 'esp.img'));
    assert.match(runOk('mdir', ['-i', join(tmp.path, 'esp.img'), '-/', '-b', '::/EFI']).stdout, /BOOTAA64\.EFI/);
  } finally {
    tmp.remove();
  }
  for (const format of ['raw', 'azure', 'do']) {
    const refused = run('node', [CLI, '-f', format, '--toplevel', toplevel, '-o', join(work.path, `bios-${format}`)]);
    assert.notEqual(refused.status, 0, format);
    assert.match(refused.stderr, /^nixos-generate: error: Cannot build this format for aarch64-linux: it boots with a PC BIOS/m);
    assert.equal(refused.stderr.split('\n').filter((l) => /error/.test(l)).length, 1, refused.stderr);
  }
  const fromConfig = generate('raw', grubConfig, 'bios-config');
  assert.notEqual(fromConfig.status, 0);
  assert.match(fromConfig.stderr, /nixpkgs\.hostPlatform = "aarch64-linux" is not supported by the raw format; raw boots with a PC BIOS/);
});

/**
 * What xorriso and isoinfo say about an aarch64 ISO, and its EFI files, checked against
 * nixpkgs' layout there; `refind` when the plan brings rEFInd (not with --toplevel).
 */
function checkAarch64Iso(iso: string, refind: boolean): void {
  const torito = runOk('xorriso', ['-indev', iso, '-report_el_torito', 'plain']).stdout;
  assert.match(torito, /El Torito boot img :\s+1\s+UEFI\s+y\s+none/);
  assert.match(torito, /El Torito img path :\s+1\s+\/boot\/efi\.img/);
  assert.doesNotMatch(torito, /BIOS|El Torito boot img :\s+2/, 'no isolinux entry: iso-image.nix makes BIOS booting x86-only');
  // No isohybrid MBR or GPT: iso-image.nix makes the USB hybrid only with BIOS booting.
  const head = readFileSync(iso).subarray(0, 512);
  assert.ok(head.every((b) => b === 0), 'the system area is empty');
  const listing = runOk('isoinfo', ['-R', '-f', '-i', iso]).stdout.split('\n');
  for (const path of ['/EFI/BOOT/BOOTAA64.EFI', '/EFI/BOOT/grub.cfg', '/EFI/nixos-installer-image', '/boot/efi.img', '/nix-store.squashfs']) {
    assert.ok(listing.includes(path), `${path} is on the ISO`);
  }
  assert.equal(listing.includes('/EFI/BOOT/refind_aa64.efi'), refind);
  assert.ok(!listing.some((p) => p.startsWith('/isolinux') || /BOOTX64/.test(p)), 'nothing of the x86 boot');
  assert.ok(listing.some((p) => /^\/boot\/nix\/store\/[0-9a-z]{32}-linux-[^/]+\/Image$/.test(p)), 'the arm64 kernel under /boot/<store path>/');
  assert.match(runOk('isoinfo', ['-d', '-i', iso]).stdout, /Volume id: nixos-25\.05-aarch64\n/);
  const tmp = tempDir('aarch64-iso');
  try {
    const efiImage = join(tmp.path, 'efi.img');
    runOk('osirrox', ['-indev', iso, '-extract', '/boot/efi.img', efiImage]);
    assert.equal(run('fsck.fat', ['-n', efiImage]).status, 0);
    assert.deepEqual(runOk('mdir', ['-i', efiImage, '-/', '-b', '::/EFI']).stdout.trim().split('\n').sort(),
      ['::/EFI/BOOT/', '::/EFI/BOOT/BOOTAA64.EFI', '::/EFI/BOOT/grub.cfg', ...(refind ? ['::/EFI/BOOT/refind_aa64.efi'] : [])]);
    runOk('mcopy', ['-i', efiImage, '::/EFI/BOOT/BOOTAA64.EFI', join(tmp.path, 'grub.efi')]);
    assert.match(runOk('file', [join(tmp.path, 'grub.efi')]).stdout, /PE32\+ executable.*Aarch64/i);
  } finally {
    tmp.remove();
  }
}

test('iso: UEFI only, GRUB for arm64-efi assembled by the build machine\'s grub-mkimage the plan names, and it boots from a CD under AAVMF into the live system', async () => {
  const config = configuration('live', `boot.loader.timeout = lib.mkForce 1;\n  ${QUICK_ISO_SQUASHFS}`);
  const plan = await buildPlanWithNix({
    source: { kind: 'file', path: config },
    formatModule: join(NIX_DIR, 'formats', 'iso.nix'),
    settings: { searchPath: [`nixpkgs=${EXAMPLE_NIXPKGS}`], options: [], showTrace: false, cores: undefined, system: SYSTEM },
    diskSize: undefined,
    specialArgs: {},
  });
  assert.ok(isLivePlan(plan));
  assert.equal(plan.live.bios, null);
  assert.equal(plan.live.usb, false);
  assert.equal(plan.live.efi?.efiArch, 'aa64');
  assert.match(plan.live.efi!.grub, /-grub-[^/]*-arm64-efi$/);
  assert.match(plan.live.efi!.mkimage!, /-grub-[^/]*-x86_64-efi\/bin\/grub-mkimage$/);
  const built = generate('iso', config, 'iso');
  assert.equal(built.status, 0, built.stderr);
  const iso = built.stdout.trim();
  assert.match(iso, /\/iso\/nixos-25\.05pre-example-aarch64-linux\.iso$/);
  checkAarch64Iso(iso, true);
  const result = await boot(iso, 'cdrom', 'uefi', 600_000, [], SYSTEM);
  assert.deepEqual(marker(result.console).slice(1), [HOST, 'none', 'missing', 'registration', 'overlay+squashfs']);
  assert.match(result.console, /stage 1: mounted \S+ \(\S+\) on \/iso/);
  assert.match(result.console, /stage 1: example system stage 1 \(kernel 6\.\d+\.\d+-\d+-arm64\)/);

  // The same system as --toplevel: GRUB assembled by this machine's grub-mkimage.
  runOk('osirrox', ['-indev', iso, '-extract', '/EFI/BOOT/grub.cfg', join(work.path, 'iso-grub.cfg')]);
  const toplevel = /init=(\/nix\/store\/[^ ]+)\/init/.exec(readFileSync(join(work.path, 'iso-grub.cfg'), 'utf8'))![1]!;
  const fromToplevel = run('node', [CLI, '-f', 'iso', '--toplevel', toplevel, '-o', join(work.path, 'iso-toplevel')]);
  assert.equal(fromToplevel.status, 0, fromToplevel.stderr);
  checkAarch64Iso(fromToplevel.stdout.trim(), false);
});

/** Starts a vm runner in `cwd` (where its disk lands); the example system powers off. */
function startRunner(runner: string, cwd: string, env: NodeJS.ProcessEnv = {}): { console: string; stderr: string } {
  const result = run('timeout', ['600', runner], { cwd, env: { ...process.env, ...env } });
  return { console: result.stdout.replace(/\r/g, ''), stderr: result.stderr };
}

test('vm-nogui: the runner starts qemu-system-aarch64 on the virt machine with qemu-vm.nix\'s aarch64 devices, and the system boots with the host store over 9p', () => {
  const built = generate('vm-nogui', grubConfig, 'vm-nogui');
  assert.equal(built.status, 0, built.stderr);
  const runner = built.stdout.trim();
  const script = readFileSync(runner, 'utf8');
  assert.match(script, /^qemu=\$\{QEMU:-qemu-system-aarch64\}$/m);
  assert.match(script, /"\$qemu" -machine virt,gic-version=max,accel=\$accel -cpu max/);
  assert.match(script, /-device virtio-gpu-pci -device usb-ehci,id=usb0 -device usb-kbd -device usb-tablet/);
  assert.doesNotMatch(script, /usb-bus\.0/);
  assert.match(script, /console=ttyAMA0,115200n8/);
  const cwd = join(work.path, 'vm-nogui-run');
  mkdirSync(cwd);
  const started = startRunner(runner, cwd, { QEMU_KERNEL_PARAMS: 'example.tag=arm' });
  const m = marker(started.console);
  assert.equal(m[1], HOST);
  assert.equal(m[4], 'reginfo');
  assert.equal(m[5], 'overlay+9p');
  assert.match(started.console, /EXAMPLE-SYSTEM-BOOTED .*\btag=arm\b/);
  assert.ok(kvmNoticeMatches(started.stderr, 'aarch64-linux'), `expected ${String(expectedKvmNotice('aarch64-linux') ?? 'no notice')} in: ${started.stderr}`);
});

test('vm-bootloader with useEFIBoot boots GRUB for arm64-efi from its disk under the host\'s AAVMF, keeping the EFI variables per VM; without useEFIBoot it is refused with one line', () => {
  const built = generate('vm-bootloader', configuration('vm-efi', 'virtualisation.useEFIBoot = true;'), 'vm-efi');
  assert.equal(built.status, 0, built.stderr);
  const cwd = join(work.path, 'vm-efi-run');
  mkdirSync(cwd);
  const started = startRunner(built.stdout.trim(), cwd, { QEMU_OPTS: '-display none -serial stdio -monitor none' });
  const m = marker(started.console);
  assert.equal(m[1], HOST);
  assert.equal(m[2], 'ok');
  assert.equal(m[5], 'root');
  assert.match(started.console, /Welcome to GRUB!/);
  assert.ok(existsSync(join(cwd, `${HOST}-efi-vars.fd`)));

  const refused = generate('vm-bootloader', grubConfig, 'vm-bios');
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /virtualisation\.useEFIBoot = false is not supported by the vm-bootloader format; .*set virtualisation\.useEFIBoot = true/);
});

test('lxc: the container tarball of the aarch64 system holds its arm64 programs and the init the container starts', () => {
  const built = generate('lxc', grubConfig, 'lxc');
  assert.equal(built.status, 0, built.stderr);
  const tarball = built.stdout.trim();
  assert.match(tarball, /\/tarball\/nixos-image-lxc-25\.05pre-example-aarch64-linux\.tar\.xz$/);
  const names = runOk('tar', ['-tJf', tarball]).stdout.split('\n');
  assert.ok(names.includes('sbin/init'));
  const busybox = names.find((n) => /^nix\/store\/[0-9a-z]{32}-busybox-[^/]+\/bin\/busybox$/.test(n));
  assert.ok(busybox !== undefined, 'busybox is in the tarball');
  const tmp = tempDir('aarch64-lxc');
  try {
    runOk('tar', ['-xJf', tarball, '-C', tmp.path, busybox]);
    assert.match(runOk('file', [join(tmp.path, busybox)]).stdout, /ARM aarch64/);
  } finally {
    tmp.remove();
  }
});

test('kexec: the tarball\'s /kexec_nixos runs the aarch64 system\'s bash and kexec, its image holds the arm64 kernel, and --run boots it on the virt machine', () => {
  const built = run('node', [CLI, '-f', 'kexec', '-c', configuration('kexec', QUICK_NETBOOT_SQUASHFS), '--system', SYSTEM, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, 'kexec'), '--run']);
  assert.equal(built.status, 0, built.stderr.slice(-2000));
  const console = built.stdout.replace(/\r/g, '');
  const tarball = console.split('\n')[0]!;
  assert.match(tarball, /\/tarball\/nixos-system-aarch64-linux\.tar\.xz$/);
  assert.deepEqual(marker(console).slice(1), [HOST, 'none', 'missing', 'registration', 'overlay+squashfs']);
  assert.match(console, /stage 1: example system stage 1 \(kernel 6\.\d+\.\d+-\d+-arm64\)/);

  const tmp = tempDir('aarch64-kexec');
  try {
    runOk('tar', ['-xpJf', tarball, '-C', tmp.path]);
    // /kexec_nixos links to the script in the tarball's store.
    const script = readFileSync(join(tmp.path, readlinkSync(join(tmp.path, 'kexec_nixos'))), 'utf8');
    const shell = /^#!(\S+)/.exec(script)![1]!;
    assert.match(runOk('file', ['-L', join(tmp.path, shell)]).stdout, /ARM aarch64/);
    const kexecTools = /export PATH=(\/nix\/store\/[^/]+-kexec-tools-[^/]+)\/bin:/.exec(script)![1]!;
    assert.match(runOk('file', [join(tmp.path, kexecTools, 'libexec/kexec')]).stdout, /ARM aarch64/);
    const image = /kexec -l (\/nix\/store\/[^/]+-image)\/kernel/.exec(script)![1]!;
    assert.match(runOk('file', ['-L', join(tmp.path, image, 'kernel')]).stdout, /ARM64|aarch64/i);
  } finally {
    tmp.remove();
  }
});

test('aarch64 images are deterministic: a second build writes the same bytes', () => {
  const again = generate('raw-efi,qcow-efi', grubConfig, 'grub-again');
  assert.equal(again.status, 0, again.stderr);
  const [raw, qcow] = again.stdout.trim().split('\n') as [string, string];
  assert.equal(sha256(raw), sha256(images.raw));
  assert.equal(sha256(qcow), sha256(images.qcow));
});
