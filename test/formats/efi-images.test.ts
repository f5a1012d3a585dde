/**
 * raw-efi and qcow-efi end to end, from the example system's toplevel: every artifact
 * checked by its reference tool, the root's /nix/store compared with the closure on
 * disk, and each image booted under OVMF with GRUB and with systemd-boot.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { espVolumeId, NIXPKGS_IDS } from '../../src/formats/layouts.js';
import { CLI, exampleToplevel } from '../helpers/example.js';
import { extractRange, partitions } from '../helpers/disk.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { snapshotTree } from '../helpers/tree.js';

const MIB = 1 << 20;
const HOST = 'efi-images-host';
let toplevel = '';
let work = { path: '', remove: () => undefined as void };
const images: Record<string, string> = {};

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function generate(args: string[]): string[] {
  const result = runOk('node', [CLI, ...args]);
  return result.stdout.split('\n').filter((l) => l !== '');
}

before(() => {
  toplevel = exampleToplevel(HOST);
  work = tempDir('efi-images');
  const [raw, qcow] = generate(['--toplevel', toplevel, '-f', 'raw-efi,qcow-efi', '-o', join(work.path, 'grub')]);
  images['grub-raw'] = raw!;
  images['grub-qcow2'] = qcow!;
  const [sdRaw, sdQcow] = generate(['--toplevel', toplevel, '--bootloader', 'systemd-boot', '-f', 'raw-efi,qcow-efi', '-o', join(work.path, 'sdboot')]);
  images['sdboot-raw'] = sdRaw!;
  images['sdboot-qcow2'] = sdQcow!;
});

test('stdout carries exactly one path per image, named as nixos-generators names them', () => {
  assert.equal(images['grub-raw'], join(work.path, 'grub/raw-efi/nixos.img'));
  assert.equal(images['grub-qcow2'], join(work.path, 'grub/qcow-efi/nixos.qcow2'));
  for (const path of Object.values(images)) assert.ok(existsSync(path), path);
  assert.deepEqual(readdirSync(join(work.path, 'grub/raw-efi')).sort(), ['SHA256SUMS', 'nixos.img']);
});

test('the partition table is make-disk-image\'s efi layout and passes sgdisk -v and fdisk -l', () => {
  const image = images['grub-raw']!;
  const verify = runOk('sgdisk', ['-v', image]).stdout;
  assert.match(verify, /No problems found/);
  assert.doesNotMatch(verify, /Warning|ERROR|Caution|corrupt/i);
  const fdisk = runOk('fdisk', ['-l', image]).stdout;
  assert.match(fdisk, /Disklabel type: gpt/);
  assert.doesNotMatch(fdisk, /corrupt/i);
  const parts = partitions(image);
  assert.deepEqual(parts.map((p) => [p.name, p.start, p.uuid]), [
    ['ESP', 8 * MIB, NIXPKGS_IDS.partition1Guid],
    ['primary', 257 * MIB, NIXPKGS_IDS.rootGuid],
  ]);
  assert.equal(parts[0]!.size, 249 * MIB);
  const virtualSize = JSON.parse(runOk('qemu-img', ['info', '--output=json', image]).stdout)['virtual-size'];
  assert.equal(parts[1]!.start + parts[1]!.size + MIB, virtualSize, 'the root ends 1 MiB before the end of the disk');
});

test('the ESP passes fsck.fat and holds GRUB, its modules, grub.cfg, kernel and initrd', () => {
  const tmp = tempDir('esp');
  try {
    const image = images['grub-raw']!;
    const esp = partitions(image)[0]!;
    const espFile = join(tmp.path, 'esp.img');
    extractRange(image, esp.start, esp.size, espFile);
    const fsck = run('fsck.fat', ['-n', '-v', espFile]);
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    assert.doesNotMatch(fsck.stdout, /differences|wrong|Orphan|Bad|Leaving|Warning/);
    assert.match(runOk('fatlabel', [espFile]).stdout.trim(), /^ESP$/);
    assert.match(runOk('blkid', ['-o', 'value', '-s', 'UUID', espFile]).stdout.trim(), new RegExp(`^${espVolumeId(NIXPKGS_IDS.diskGuid)}$`));
    const out = join(tmp.path, 'files');
    mkdirSync(out);
    runOk('mcopy', ['-s', '-n', '-i', espFile, '::/EFI', '::/grub', '::/kernels', out], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    assert.ok(existsSync(join(out, 'EFI/BOOT/BOOTX64.EFI')));
    assert.ok(existsSync(join(out, 'grub/x86_64-efi/normal.mod')));
    const spec = JSON.parse(readFileSync(join(toplevel, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'];
    const kernelName = (spec.kernel as string).replace('/nix/store/', '').replace(/\//g, '-');
    const initrdName = (spec.initrd as string).replace('/nix/store/', '').replace(/\//g, '-');
    assert.equal(sha256(join(out, 'kernels', kernelName)), sha256(spec.kernel));
    assert.equal(sha256(join(out, 'kernels', initrdName)), sha256(spec.initrd));
    const cfg = readFileSync(join(out, 'grub/grub.cfg'), 'utf8');
    assert.match(cfg, new RegExp(`linux /kernels/${kernelName} init=${spec.init} ${(spec.kernelParams as string[]).join(' ')}`));
    assert.match(cfg, /set timeout=0/);
    const moduleDir = readdirSync(join(out, 'grub/x86_64-efi')).sort();
    const grubPackage = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.split('\n').find((p) => existsSync(join(p, 'lib/grub/x86_64-efi/kernel.img')))!;
    assert.deepEqual(moduleDir, readdirSync(join(grubPackage, 'lib/grub/x86_64-efi')).filter((f) => /\.(mod|lst)$/.test(f)).sort());
  } finally {
    tmp.remove();
  }
});

test('the systemd-boot ESP has the loader, its entry and the kernel from the bootspec', () => {
  const tmp = tempDir('esp-sd');
  try {
    const image = images['sdboot-raw']!;
    const esp = partitions(image)[0]!;
    const out = join(tmp.path, 'files');
    mkdirSync(out);
    runOk('mcopy', ['-s', '-n', '-i', `${image}@@${esp.start}`, '::/EFI', '::/loader', out], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    const efi = join(toplevel, 'systemd/lib/systemd/boot/efi/systemd-bootx64.efi');
    assert.equal(sha256(join(out, 'EFI/systemd/systemd-bootx64.efi')), sha256(efi));
    assert.equal(sha256(join(out, 'EFI/BOOT/BOOTX64.EFI')), sha256(efi));
    const entry = readFileSync(join(out, 'loader/entries/nixos-generation-1.conf'), 'utf8');
    const spec = JSON.parse(readFileSync(join(toplevel, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'];
    assert.match(entry, new RegExp(`options init=${spec.init} ${(spec.kernelParams as string[]).join(' ')}`));
    assert.match(readFileSync(join(out, 'loader/loader.conf'), 'utf8'), /^timeout 0$/m);
  } finally {
    tmp.remove();
  }
});

test('the root passes e2fsck and holds the closure exactly, the Nix database, the profile and /etc/NIXOS', () => {
  const tmp = tempDir('root');
  try {
    const image = images['grub-raw']!;
    const root = partitions(image)[1]!;
    const rootFile = join(tmp.path, 'root.img');
    extractRange(image, root.start, root.size, rootFile);
    const fsck = run('e2fsck', ['-fn', rootFile]);
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    assert.match(runOk('dumpe2fs', ['-h', rootFile]).stdout, /Filesystem volume name:\s+nixos\n/);
    const restored = join(tmp.path, 'restored');
    mkdirSync(restored);
    runOk('debugfs', ['-R', `rdump /nix ${restored}`, rootFile]);
    const closure = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.trim().split('\n').sort();
    assert.deepEqual(readdirSync(join(restored, 'nix/store')).sort(), closure.map((p) => basename(p)).sort());
    for (const path of closure) {
      assert.deepEqual(snapshotTree(join(restored, 'nix/store', basename(path))), snapshotTree(path), path);
    }
    assert.equal(readlinkSync(join(restored, 'nix/var/nix/profiles/system')), 'system-1-link');
    assert.equal(readlinkSync(join(restored, 'nix/var/nix/profiles/system-1-link')), toplevel);
    assert.equal(readFileSync(join(restored, 'nix/var/nix/db/schema'), 'utf8'), '10');
    const store = `local?root=${restored}`;
    const registered = runOk('nix-store', ['--store', store, '--query', '--requisites', toplevel]).stdout.trim().split('\n').sort();
    assert.deepEqual(registered, closure);
    assert.match(runOk('debugfs', ['-R', 'stat /etc/NIXOS', rootFile]).stdout, /Type: regular.*\n(.*\n)*.*Size: 0/);
    assert.match(runOk('debugfs', ['-R', 'stat /nix/store', rootFile]).stdout, /Mode:\s+01775/);
  } finally {
    tmp.remove();
  }
});

test('qcow2 outputs pass qemu-img check and equal their raw twins', () => {
  for (const [qcow, raw] of [['grub-qcow2', 'grub-raw'], ['sdboot-qcow2', 'sdboot-raw']] as const) {
    const check = runOk('qemu-img', ['check', '-f', 'qcow2', images[qcow]!]).stdout;
    assert.match(check, /No errors were found on the image/);
    const info = JSON.parse(runOk('qemu-img', ['info', '--output=json', images[qcow]!]).stdout);
    assert.equal(info['format-specific'].data.compat, '1.1');
    assert.match(runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', images[raw]!, images[qcow]!]).stdout, /Images are identical/);
  }
});

test('building again gives the same bytes', () => {
  const again = generate(['--toplevel', toplevel, '-f', 'raw-efi,qcow-efi', '-o', join(work.path, 'again')]);
  assert.equal(sha256(again[0]!), sha256(images['grub-raw']!));
  assert.equal(sha256(again[1]!), sha256(images['grub-qcow2']!));
});

for (const name of ['grub-raw', 'grub-qcow2', 'sdboot-raw', 'sdboot-qcow2']) {
  test(`${name} boots under OVMF and the example system reports its host name`, async () => {
    const result = await boot(images[name]!, name.endsWith('qcow2') ? 'qcow2' : 'raw', 'uefi');
    const marker = MARKER.exec(result.console);
    assert.ok(marker !== null, `no marker on the console:\n${result.console.slice(-3000)}`);
    assert.deepEqual(marker.slice(1), [HOST, 'ok', 'ok', 'ok', 'root']);
    assert.equal(result.timedOut, false);
  });
}

process.on('exit', () => work.remove());
