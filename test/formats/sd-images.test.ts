/**
 * The sd-card formats end to end, from configurations evaluated with the stand-in's
 * installer/sd-card modules: sd-aarch64 (with a specialisation) checked partition by
 * partition with the reference tools, its registration loaded by real Nix, the first-boot
 * expansion's steps run on it, booted by Debian's U-Boot for QEMU's virt machine through
 * the generated extlinux.conf; sd-x86_64's extlinux.conf read by U-Boot for QEMU's PC and
 * its entry booted; sdImage settings refused with one line; determinism.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kernelQemuArguments } from '../../src/cli/run-qemu.js';
import { CLI, EXAMPLE_NIXPKGS, exampleConfiguration } from '../helpers/example.js';
import { diskId, extractRange, partitions } from '../helpers/disk.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { run, runOk, tempDir } from '../helpers/run.js';

const MIB = 1 << 20;
const HOST = 'sd-host';
const work = tempDir('sd-images');
after(() => work.remove());

function configuration(name: string, body: string): string {
  return exampleConfiguration(work.path, name, HOST, body);
}

function generate(format: string, config: string, out: string, system?: string): ReturnType<typeof run> {
  return run('node', [CLI, '-f', format, '-c', config, ...(system === undefined ? [] : ['--system', system]), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, out)]);
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** An image's partition as a file of its own. */
function partitionFile(image: string, index: number, name: string): string {
  const p = partitions(image)[index]!;
  const file = join(work.path, name);
  extractRange(image, p.start, p.size, file);
  return file;
}

const armConfig = configuration('arm', `
  specialisation.debug.configuration.boot.kernelParams = [ "example.tag=debug" ];`);
let armImage = '';
let armZst = '';

before(() => {
  const result = generate('sd-aarch64', armConfig, 'arm', 'aarch64-linux');
  assert.equal(result.status, 0, result.stderr);
  armZst = result.stdout.trim();
  armImage = join(work.path, 'arm.img');
  runOk('zstd', ['-d', '-q', '-f', armZst, '-o', armImage]);
});

test('sd-aarch64 is named as nixpkgs names it and is a zstd file', () => {
  assert.match(armZst, new RegExp(`/arm/sd-image/nixos-image-sd-card-[^/]+-aarch64-linux\\.img\\.zst$`));
  runOk('zstd', ['-t', '-q', armZst]);
  assert.deepEqual(readFileSync(join(work.path, 'arm', 'SHA256SUMS'), 'utf8').trim().split(/\s+/), [sha256(armZst), `sd-image/${armZst.split('/').at(-1)}`]);
});

test('the MBR is sd-image.nix\'s: id 0x2178694e, FAT at 8 MiB (30 MiB, type b), the bootable root after it to the end', () => {
  assert.equal(diskId(armImage), '0x2178694e');
  const parts = partitions(armImage);
  assert.equal(parts.length, 2);
  assert.deepEqual([parts[0]!.start, parts[0]!.size, parts[0]!.type, parts[0]!.bootable], [8 * MIB, 30 * MIB, 'b', false]);
  assert.deepEqual([parts[1]!.start, parts[1]!.type, parts[1]!.bootable], [38 * MIB, '83', true]);
  assert.equal(parts[1]!.start + parts[1]!.size, statSync(armImage).size, 'the root runs to the end of the image');
});

test('FIRMWARE is FAT16 as mkfs.vfat makes it, with the Pi firmware, config.txt and U-Boot from the closure, dated 2000-01-01', () => {
  const fat = partitionFile(armImage, 0, 'firmware.img');
  const fsck = run('fsck.fat', ['-n', '-v', fat]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
  assert.match(fsck.stdout, /16 bit entries/);
  assert.match(fsck.stdout, /2048 bytes per cluster/);
  assert.equal(runOk('fatlabel', [fat]).stdout.trim(), 'FIRMWARE');
  assert.equal(runOk('blkid', ['-o', 'value', '-s', 'UUID', fat]).stdout.trim(), '2178-694E');
  const listing = runOk('mdir', ['-i', fat, '::/']).stdout;
  const names = runOk('mdir', ['-i', fat, '-b', '::/']).stdout;
  for (const name of ['bootcode.bin', 'start4.elf', 'fixup4.dat', 'config.txt', 'u-boot-rpi3.bin', 'u-boot-rpi4.bin', 'bcm2711-rpi-4-b.dtb', 'bcm2837-rpi-3-b.dtb']) {
    assert.match(names, new RegExp(`^::/${name.replace(/\./g, '\\.')}$`, 'm'), name);
  }
  for (const line of listing.split('\n').filter((l) => /\d{4}-\d\d-\d\d/.test(l))) assert.match(line, /2000-01-01\s+0:00/, line);
  assert.match(runOk('mtype', ['-i', fat, '::/config.txt']).stdout, /\[pi4\]\nkernel=u-boot-rpi4\.bin\n/);
});

test('NIXOS_SD passes e2fsck and holds the closure, /nix-path-registration (loaded by real Nix) and no database yet', () => {
  const root = partitionFile(armImage, 1, 'root.img');
  const fsck = run('e2fsck', ['-fn', root]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
  assert.equal(runOk('blkid', ['-o', 'value', '-s', 'LABEL', root]).stdout.trim(), 'NIXOS_SD');
  assert.equal(runOk('blkid', ['-o', 'value', '-s', 'UUID', root]).stdout.trim(), '44444444-4444-4444-8888-888888888888');
  const top = runOk('debugfs', ['-R', 'ls -p /', root]).stdout;
  const names = top.split('\n').map((l) => l.split('/')[5]).filter((n) => n !== undefined && n !== '' && n !== '.' && n !== '..').sort();
  assert.deepEqual(names, ['boot', 'lost+found', 'nix', 'nix-path-registration']);
  const registration = join(work.path, 'registration');
  runOk('debugfs', ['-R', `dump /nix-path-registration ${registration}`, root]);
  const extlinux = runOk('debugfs', ['-R', 'cat /boot/extlinux/extlinux.conf', root]).stdout;
  const toplevel = /APPEND init=(\/nix\/store\/[^ ]+)\/init/.exec(extlinux)![1]!;
  const store = join(work.path, 'loaded-store');
  runOk('nix-store', ['--store', store, '--load-db'], { input: readFileSync(registration) });
  const host = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.split('\n').filter(Boolean).sort();
  const loaded = runOk('nix-store', ['--store', store, '--query', '--requisites', toplevel]).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(loaded, host);
});

test('/boot/extlinux/extlinux.conf is the builder\'s: TIMEOUT 50, the copies in /boot/nixos, FDTDIR, the specialisation as nixos-1-debug', () => {
  const root = join(work.path, 'root.img');
  if (!existsSync(root)) partitionFile(armImage, 1, 'root.img');
  const extlinux = runOk('debugfs', ['-R', 'cat /boot/extlinux/extlinux.conf', root]).stdout;
  assert.match(extlinux, /^# Generated file, all changes will be lost on nixos-rebuild!\n\n# Change this to e\.g\. nixos-42 to temporarily boot to an older configuration\.\nDEFAULT nixos-default\n\nTIMEOUT 50\nMENU TITLE -{60}\n\nLABEL nixos-default\n/);
  const kernel = /LINUX \.\.\/nixos\/(\S+)/.exec(extlinux)![1]!;
  const dtbs = /FDTDIR \.\.\/nixos\/(\S+)/.exec(extlinux)![1]!;
  assert.match(kernel, /^[0-9a-z]{32}-linux-[^/]+-Image$/);
  assert.match(dtbs, /^[0-9a-z]{32}-linux-[^/]+-dtbs$/);
  assert.match(extlinux, /APPEND init=\S+\/init .*console=ttyS0,115200n8 console=ttyAMA0,115200n8 console=tty0 console=ttyAMA0\n/);
  assert.match(extlinux, /\nLABEL nixos-1-debug\n {2}MENU LABEL NixOS - Configuration 1-debug \(1970-01-01 00:00 - /);
  assert.match(extlinux, /APPEND init=\S+\/init .*example\.tag=debug/);
  const copy = join(work.path, 'kernel-copy');
  runOk('debugfs', ['-R', `dump /boot/nixos/${kernel} ${copy}`, root]);
  assert.equal(sha256(copy), sha256(`/nix/store/${kernel.replace(/-Image$/, '/Image')}`));
  assert.match(runOk('debugfs', ['-R', `ls /boot/nixos/${dtbs}/broadcom`, root]).stdout, /bcm2711-rpi-4-b\.dtb/);
});

test('the first boot\'s expansion works on the card: sfdisk grows the root partition, resize2fs its filesystem, e2fsck passes', () => {
  const card = join(work.path, 'card.img');
  runOk('cp', [armImage, card]);
  runOk('truncate', ['-s', `+${64 * MIB}`, card]);
  runOk('sfdisk', ['--no-reread', '--no-tell-kernel', '-N', '2', card], { input: ',+,\n' });
  const root = partitionFile(card, 1, 'grown-root.img');
  assert.equal(statSync(root).size, statSync(join(work.path, 'root.img')).size + 64 * MIB);
  runOk('resize2fs', [root]);
  const fsck = run('e2fsck', ['-fn', root]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
  const blocks = /Block count:\s+(\d+)/.exec(runOk('dumpe2fs', ['-h', root]).stdout)![1]!;
  assert.equal(Number(blocks) * 4096, statSync(root).size);
});

test('sd-aarch64 boots by U-Boot (Debian\'s qemu_arm64) through extlinux.conf; the system finds its registration', async () => {
  const result = await boot(armImage, 'raw', 'u-boot', 600_000, [], 'aarch64-linux');
  assert.match(result.console, /Found \/boot\/extlinux\/extlinux\.conf/);
  const m = MARKER.exec(result.console);
  assert.ok(m !== null, result.console.slice(-3000));
  assert.equal(m[1], HOST);
  assert.equal(m[4], 'registration');
  assert.equal(m[5], 'root');
});

test('sd-x86_64: U-Boot for QEMU\'s PC reads extlinux.conf and loads its files; the entry boots', async () => {
  // panic=1: Debian's U-Boot boots the kernel without its initrd (below), which then reboots at once.
  const result = generate('sd-x86_64', configuration('x86', 'boot.kernelParams = [ "panic=1" ];'), 'x86');
  assert.equal(result.status, 0, result.stderr);
  const zst = result.stdout.trim();
  assert.match(zst, /\/sd-image\/nixos-image-sd-card-[^/]+-x86_64-linux\.img\.zst$/);
  const image = join(work.path, 'x86.img');
  runOk('zstd', ['-d', '-q', '-f', zst, '-o', image]);
  const firmware = partitionFile(image, 0, 'x86-firmware.img');
  assert.equal(run('fsck.fat', ['-n', firmware]).status, 0);
  assert.doesNotMatch(runOk('mdir', ['-i', firmware, '::/']).stdout, /\d{4}-\d\d-\d\d/, 'the firmware partition is empty');
  // U-Boot finds the bootable root's extlinux.conf and loads the kernel and initrd it names.
  // Debian's U-Boot for QEMU's PC has been seen to stall under emulation right after
  // "Loading Environment" (once, in a full suite; it reads the file within 20 s
  // otherwise): a start that times out before U-Boot finds the file is tried once more.
  const startUboot = () => boot(image, 'raw', 'u-boot', 90_000, [], 'x86_64-linux');
  let uboot = await startUboot();
  if (uboot.timedOut && !/Found \/boot\/extlinux/.test(uboot.console)) uboot = await startUboot();
  assert.match(uboot.console, /Found \/boot\/extlinux\/extlinux\.conf/);
  assert.match(uboot.console, /Retrieving file: \/boot\/extlinux\/\.\.\/nixos\/[0-9a-z]{32}-linux-[^ ]+-bzImage/);
  assert.match(uboot.console, /Retrieving file: \/boot\/extlinux\/\.\.\/nixos\/[0-9a-z]{32}-initrd-[^ ]+-initrd/);
  // Debian's U-Boot 2023.01 hands the x86 kernel the initrd with size 0 (its zboot), so
  // the entry is booted with QEMU's own loader: the files and command line extlinux.conf names.
  const root = partitionFile(image, 1, 'x86-root.img');
  const extlinux = runOk('debugfs', ['-R', 'cat /boot/extlinux/extlinux.conf', root]).stdout;
  const field = (name: string): string => new RegExp(`^ {2}${name} (.*)$`, 'm').exec(extlinux)![1]!;
  const kernel = join(work.path, 'x86-kernel');
  const initrd = join(work.path, 'x86-initrd');
  runOk('debugfs', ['-R', `dump /boot/extlinux/${field('LINUX')} ${kernel}`, root]);
  runOk('debugfs', ['-R', `dump /boot/extlinux/${field('INITRD')} ${initrd}`, root]);
  const direct = run('timeout', ['300', 'qemu-system-x86_64', ...kernelQemuArguments(kernel, initrd, field('APPEND'), process.env).flatMap((a) => (a === '-nographic' ? ['-display', 'none', '-serial', 'stdio', '-monitor', 'none'] : [a])),
    '-drive', `file=${image},format=raw,if=virtio,snapshot=on`]);
  const m = MARKER.exec(direct.stdout.replace(/\r/g, ''));
  assert.ok(m !== null, direct.stdout.slice(-3000));
  assert.equal(m[1], HOST);
  assert.equal(m[4], 'registration');
});

test('sdImage settings the writers cannot honour are refused with one line, and nothing is written', () => {
  for (const [body, option] of [
    ['sdImage.postBuildCommands = "touch $img.done";', 'sdImage.postBuildCommands'],
    ['sdImage.populateRootCommands = lib.mkForce "mkdir -p ./files/extra";', 'sdImage.populateRootCommands'],
    ['boot.loader.generic-extlinux-compatible.enable = lib.mkForce false; boot.loader.grub.enable = lib.mkForce true; boot.loader.grub.device = lib.mkForce "nodev";', 'boot.loader.generic-extlinux-compatible.enable'],
  ] as const) {
    const out = join(work.path, `refused-${option}`);
    const result = run('node', [CLI, '-f', 'sd-x86_64', '-c', configuration(`refuse-${option}`, body), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', out]);
    assert.notEqual(result.status, 0, option);
    assert.match(result.stderr, new RegExp(`^nixos-generate: error: .*${option.replace(/\./g, '\\.')} = .* is not supported by the sd-x86_64 format; `, 'm'));
    assert.ok(!existsSync(out), `${out} was created`);
  }
  const sized = run('node', [CLI, '-f', 'sd-x86_64', '-c', configuration('sized', ''), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '--disk-size', '4096', '-o', join(work.path, 'sized')]);
  assert.notEqual(sized.status, 0);
  assert.match(sized.stderr, /virtualisation\.diskSize = 4096 is not supported by the sd-x86_64 format/);
});

test('sdImage settings that change the image are honoured: uncompressed, another firmware size and offset, a root UUID', () => {
  const result = generate('sd-x86_64', configuration('custom', `
    sdImage.compressImage = false;
    sdImage.firmwareSize = 40;
    sdImage.firmwarePartitionOffset = 4;
    sdImage.firmwarePartitionName = "BOOTFW";
    sdImage.rootPartitionUUID = "14e19a7b-0ae0-484d-9d54-43bd6fdc20c7";`), 'custom');
  assert.equal(result.status, 0, result.stderr);
  const image = result.stdout.trim();
  assert.match(image, /\/sd-image\/nixos-image-sd-card-[^/]+-x86_64-linux\.img$/);
  const parts = partitions(image);
  assert.deepEqual([parts[0]!.start, parts[0]!.size, parts[1]!.start], [4 * MIB, 40 * MIB, 44 * MIB]);
  assert.equal(runOk('fatlabel', [partitionFile(image, 0, 'custom-fw.img')]).stdout.trim(), 'BOOTFW');
  assert.equal(runOk('blkid', ['-o', 'value', '-s', 'UUID', partitionFile(image, 1, 'custom-root.img')]).stdout.trim(), '14e19a7b-0ae0-484d-9d54-43bd6fdc20c7');
});

test('a second build of sd-aarch64-installer, sd-aarch64 and sd-x86_64 writes the same bytes', () => {
  const installer = generate('sd-aarch64-installer', armConfig, 'installer', 'aarch64-linux');
  assert.equal(installer.status, 0, installer.stderr);
  assert.match(installer.stdout.trim(), /\/sd-image\/nixos-image-sd-card-[^/]+-aarch64-linux\.img\.zst$/);
  const installerAgain = generate('sd-aarch64-installer', armConfig, 'installer-again', 'aarch64-linux');
  assert.equal(installerAgain.status, 0, installerAgain.stderr);
  assert.equal(sha256(installerAgain.stdout.trim()), sha256(installer.stdout.trim()));
  const again = generate('sd-aarch64', armConfig, 'arm-again', 'aarch64-linux');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(sha256(again.stdout.trim()), sha256(armZst));
  const x86 = generate('sd-x86_64', configuration('x86-twice', ''), 'x86-once');
  const x86Again = generate('sd-x86_64', configuration('x86-twice', ''), 'x86-twice');
  assert.equal(x86.status + x86Again.status, 0, x86.stderr + x86Again.stderr);
  assert.equal(sha256(x86Again.stdout.trim()), sha256(x86.stdout.trim()));
});
