/**
 * Every format end to end from the example system's toplevel: the file nixos-generators
 * names, the container checked by its reference reader and compared with the raw disk of
 * the same plan ("raw twin"), the partition layouts, the side files, determinism.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeRaw } from '../../src/container/raw.js';
import { proxmoxQemuServerConf } from '../../src/container/proxmox-config.js';
import { buildDiskImage } from '../../src/formats/disk-image.js';
import { isDiskFormat } from '../../src/formats/format.js';
import { FORMATS as ALL_FORMATS, findDiskFormat } from '../../src/formats/registry.js';

/** The disk formats (live ISOs have their own tests: test/formats/iso.test.ts). */
const FORMATS = ALL_FORMATS.filter(isDiskFormat);
import { planForToplevel, toplevelNames } from '../../src/formats/toplevel-plan.js';
import { queryClosure } from '../../src/nix/closure.js';
import type { SystemClosure } from '../../src/nix/root-tree.js';
import { CLI, exampleToplevel } from '../helpers/example.js';
import { extractRange, partitions } from '../helpers/disk.js';
import { writeTo } from '../helpers/output.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { readVma } from '../helpers/vma-reader.js';
import { assertVirtualBoxOvf, readOvf } from '../container/ovf-check.js';

const HOST = 'all-formats-host';
const MIB = 1 << 20;
let toplevel = '';
let closure: SystemClosure;
let label = '';
const work = tempDir('all-formats');
const images = new Map<string, string>();
const twins = new Map<string, string>();

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function readBytes(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(length);
    readSync(fd, out, 0, length, position);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The raw disk of the format's plan, written by the library, to compare containers with. */
async function twin(format: string): Promise<string> {
  let path = twins.get(format);
  if (path === undefined) {
    const disk = await buildDiskImage(planForToplevel(findDiskFormat(format), closure), closure, 1);
    path = join(work.path, 'twins', `${format}.raw`);
    mkdirSync(join(work.path, 'twins'), { recursive: true });
    await writeTo(path, (out) => writeRaw(disk.image, out));
    twins.set(format, path);
  }
  return path;
}

function compare(rawPath: string, image: string, format: string): void {
  assert.match(runOk('qemu-img', ['compare', '-f', 'raw', '-F', format, rawPath, image]).stdout, /Images are identical/);
}

before(async () => {
  toplevel = exampleToplevel(HOST);
  closure = await queryClosure(toplevel);
  label = toplevelNames(toplevel).label;
  const names = FORMATS.map((f) => f.name);
  const result = runOk('node', [CLI, '--toplevel', toplevel, '-f', names.join(','), '-o', join(work.path, 'out')]);
  const paths = result.stdout.trim().split('\n');
  assert.equal(paths.length, names.length);
  names.forEach((name, i) => images.set(name, paths[i]!));
});

test('each format writes the file its nixpkgs builder or nixos-generators names', () => {
  const base = `nixos-image-${label}-x86_64-linux`;
  const expected: Record<string, string> = {
    amazon: `${base}.vhd`, azure: `${base}.vhd`, cloudstack: 'nixos.qcow2', do: `${base}.qcow2.gz`,
    gce: `${base}.raw.tar.gz`, hyperv: `${base}.vhdx`, kubevirt: `${base}.qcow2`, linode: 'nixos.img.gz',
    openstack: `${base}.qcow2`, proxmox: `vzdump-qemu-nixos-${label}.vma.zst`, qcow: 'nixos.qcow2',
    'qcow-efi': 'nixos.qcow2', raw: 'nixos.img', 'raw-efi': 'nixos.img', 'vagrant-virtualbox': `${base}.box`,
    virtualbox: `${base}.ova`, vmware: `${base}.vmdk`,
  };
  assert.deepEqual(Object.keys(expected).sort(), FORMATS.map((f) => f.name).sort());
  for (const [format, file] of Object.entries(expected)) {
    assert.equal(images.get(format), join(work.path, 'out', format, file), format);
    assert.ok(existsSync(images.get(format)!), format);
  }
});

test('legacy: an MBR with GRUB\'s boot code pointing at the core in the post-MBR gap', async () => {
  const raw = images.get('raw')!;
  assert.match(runOk('sfdisk', ['--verify', raw]).stdout, /No errors detected/);
  const table = JSON.parse(runOk('sfdisk', ['--json', raw]).stdout).partitiontable;
  assert.equal(table.label, 'dos');
  assert.deepEqual(table.partitions.map((p: { start: number; type: string }) => [p.start, p.type]), [[2048, '83']]);
  const mbr = readBytes(raw, 0, 512);
  assert.equal(mbr.readBigUInt64LE(0x5c), 1n, 'boot.img loads core.img from LBA 1');
  assert.deepEqual([mbr[0x66], mbr[0x67]], [0x90, 0x90]);
  assert.deepEqual([mbr[510], mbr[511]], [0x55, 0xaa]);
  assert.equal(readBytes(raw, 512 + 0x1f4, 8).readBigUInt64LE(0), 2n, 'core.img\'s blocklist starts at LBA 2');
  const root = partitions(raw)[0]!;
  const rootFile = join(work.path, 'raw-root.img');
  extractRange(raw, root.start, root.size, rootFile);
  assert.equal(run('e2fsck', ['-fn', rootFile]).status, 0);
  const cfg = runOk('debugfs', ['-R', 'cat /boot/grub/grub.cfg', rootFile]).stdout;
  const kernel = JSON.parse(readFileSync(join(toplevel, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'].kernel as string;
  assert.match(cfg, new RegExp(`linux ${kernel} init=${toplevel}/init`), 'kernels load straight from /nix/store');
  assert.match(runOk('debugfs', ['-R', 'ls /boot/grub/i386-pc', rootFile]).stdout, /normal\.mod/);
});

test('legacy+gpt and hybrid: GPT with a BIOS boot partition holding the core, clean for sgdisk', async () => {
  for (const [format, coreLba] of [['amazon', 2048], ['qcow', 34]] as const) {
    const raw = await twin(format);
    const verify = runOk('sgdisk', ['-v', raw]).stdout;
    assert.match(verify, /No problems found/, format);
    assert.doesNotMatch(verify, /Warning|ERROR|corrupt/i, format);
    const bios = partitions(raw).find((p) => p.type === '21686148-6449-6E6F-744E-656564454649');
    assert.ok(bios !== undefined, `${format} has a BIOS boot partition`);
    assert.equal(bios.start / 512, coreLba);
    assert.equal(readBytes(raw, 0, 512).readBigUInt64LE(0x5c), BigInt(coreLba));
    assert.equal(readBytes(raw, 0, 512)[446 + 4], 0xee, 'the protective MBR entry is kept');
  }
  assert.deepEqual(partitions(await twin('qcow')).map((p) => [p.name, p.start / 512]), [['ESP', 16384], ['no-fs', 34], ['primary', 526336]]);
});

test('qcow2 formats pass qemu-img check and equal their raw twins', async () => {
  for (const format of ['cloudstack', 'kubevirt', 'openstack', 'qcow']) {
    assert.match(runOk('qemu-img', ['check', images.get(format)!]).stdout, /No errors were found/, format);
    compare(await twin(format), images.get(format)!, 'qcow2');
  }
  for (const [format, freeMiB] of [['cloudstack', 512], ['openstack', 1024]] as const) {
    const root = partitions(await twin(format))[0]!;
    const file = join(work.path, `${format}-root.img`);
    extractRange(await twin(format), root.start, root.size, file);
    const header = runOk('dumpe2fs', ['-h', file]).stdout;
    const value = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(header)![1]);
    const available = ((value('Free blocks') - value('Reserved block count')) * 4096) / MIB;
    assert.ok(available >= freeMiB && available < freeMiB + 8, `${format} leaves ${available.toFixed(1)} MiB free for users, wants ${freeMiB}`);
  }
});

test('amazon and azure VHDs: vhdiinfo reads them, qemu sees the raw disk, azure is fixed and a whole number of MiB', async () => {
  for (const format of ['amazon', 'azure']) {
    const image = images.get(format)!;
    const info = runOk('vhdiinfo', [image]).stdout;
    assert.match(info, format === 'azure' ? /Disk type\s*:\s*Fixed/ : /Disk type\s*:\s*Dynamic/, format);
    compare(await twin(format), image, 'vpc');
  }
  const azure = images.get('azure')!;
  const virtual = statSync(await twin('azure')).size;
  assert.equal(virtual % MIB, 0);
  assert.equal(statSync(azure).size, virtual + 512);
  const info = JSON.parse(readFileSync(join(work.path, 'out/amazon/nix-support/image-info.json'), 'utf8'));
  assert.deepEqual(Object.keys(info), ['label', 'boot_mode', 'system', 'logical_bytes', 'file', 'disks']);
  assert.equal(info.boot_mode, 'legacy-bios');
  assert.equal(info.file, images.get('amazon'));
  assert.equal(info.logical_bytes, String(statSync(await twin('amazon')).size));
});

test('hyperv VHDX and vmware VMDK pass their readers and equal their raw twins', async () => {
  assert.match(runOk('qemu-img', ['check', '-f', 'vhdx', images.get('hyperv')!]).stdout, /No errors were found/);
  assert.match(runOk('vhdiinfo', [images.get('hyperv')!]).stdout, /Format\s*:\s*2\.0|VHDX/i);
  compare(await twin('hyperv'), images.get('hyperv')!, 'vhdx');
  const vmdk = images.get('vmware')!;
  assert.match(runOk('vmdkinfo', [vmdk]).stdout, /Disk type\s*:\s*Monolithic sparse/i);
  assert.match(runOk('qemu-img', ['info', vmdk]).stdout, /create type: monolithicSparse/);
  compare(await twin('vmware'), vmdk, 'vmdk');
});

test('do and linode: the gzip streams decompress to the twin qcow2 and bare ext4', async () => {
  const tmp = join(work.path, 'gunzip');
  mkdirSync(tmp, { recursive: true });
  runOk('bash', ['-c', `gzip -t "$1" && gzip -dc "$1" > "$2"`, '_', images.get('do')!, join(tmp, 'do.qcow2')]);
  assert.match(runOk('qemu-img', ['check', join(tmp, 'do.qcow2')]).stdout, /No errors were found/);
  compare(await twin('do'), join(tmp, 'do.qcow2'), 'qcow2');
  runOk('bash', ['-c', `gzip -dc "$1" > "$2"`, '_', images.get('linode')!, join(tmp, 'linode.img')]);
  assert.equal(sha256(join(tmp, 'linode.img')), sha256(await twin('linode')));
  assert.equal(run('e2fsck', ['-fn', join(tmp, 'linode.img')]).status, 0, 'the whole disk is one ext4 filesystem');
  const cfg = runOk('debugfs', ['-R', 'cat /boot/grub/grub.cfg', join(tmp, 'linode.img')]).stdout;
  assert.match(cfg, new RegExp(`init=${toplevel}/init`));
  const restored = join(tmp, 'boot');
  mkdirSync(restored);
  runOk('debugfs', ['-R', `rdump /boot ${restored}`, join(tmp, 'linode.img')]);
  assert.equal(readlinkSync(join(restored, 'boot/grub2')), 'grub', 'Linode\'s GRUB finds /boot/grub2');
});

test('gce: a gzipped tar holding only a sparse disk.raw equal to the twin', async () => {
  const image = images.get('gce')!;
  const listing = runOk('tar', ['-tzvf', image]).stdout.trim().split('\n');
  assert.equal(listing.length, 1);
  assert.match(listing[0]!, new RegExp(` ${statSync(await twin('gce')).size} .* disk\\.raw$`));
  const dir = join(work.path, 'gce');
  mkdirSync(dir);
  runOk('tar', ['-xzSf', image, '-C', dir]);
  assert.equal(sha256(join(dir, 'disk.raw')), sha256(await twin('gce')));
});

test('virtualbox: an OVA VirtualBox can import, whose disk is the twin', async () => {
  const image = images.get('virtualbox')!;
  const stem = basename(image, '.ova');
  const members = runOk('tar', ['-tf', image]).stdout.trim().split('\n');
  assert.deepEqual(members, [`${stem}.ovf`, `${stem}-disk001.vmdk`, `${stem}.mf`]);
  const dir = join(work.path, 'ova');
  mkdirSync(dir);
  runOk('tar', ['-xf', image, '-C', dir]);
  const vmdk = join(dir, `${stem}-disk001.vmdk`);
  const virtual = statSync(await twin('virtualbox')).size;
  assertVirtualBoxOvf(readOvf(join(dir, `${stem}.ovf`)), {
    vmdkName: `${stem}-disk001.vmdk`, vmdkSize: statSync(vmdk).size, capacity: virtual,
    vmName: `NixOS ${label} (x86_64-linux)`, memoryMiB: 1536, cpus: 1, controller: 'sata', nicSubtype: 'virtio-net',
  });
  const manifest = readFileSync(join(dir, `${stem}.mf`), 'utf8');
  for (const file of [`${stem}.ovf`, `${stem}-disk001.vmdk`]) assert.ok(manifest.includes(sha256(join(dir, file))), file);
  compare(await twin('virtualbox'), vmdk, 'vmdk');
  assert.ok(virtual > 30 * 1024 * MIB, 'virtualbox leaves 30 GiB free, as nixpkgs does');
});

test('vagrant-virtualbox: a box with metadata, Vagrantfile, OVF and the twin disk', async () => {
  const image = images.get('vagrant-virtualbox')!;
  runOk('gzip', ['-t', image]);
  const members = runOk('tar', ['-tzf', image]).stdout.trim().split('\n').map((m) => m.replace(/^\.\//, '')).filter((m) => m !== '' && m !== '.');
  assert.deepEqual([...members].sort(), ['Vagrantfile', 'box-disk001.vmdk', 'box.mf', 'box.ovf', 'metadata.json']);
  const dir = join(work.path, 'box');
  mkdirSync(dir);
  runOk('tar', ['-xzf', image, '-C', dir]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')), { provider: 'virtualbox' });
  assert.match(readFileSync(join(dir, 'Vagrantfile'), 'utf8'), /config\.vm\.base_mac = "0800275F0936"/);
  compare(await twin('vagrant-virtualbox'), join(dir, 'box-disk001.vmdk'), 'vmdk');
});

test('proxmox: a zstd VMA whose config is the qemu-server.conf and whose disk restores to the twin', async () => {
  const image = images.get('proxmox')!;
  runOk('zstd', ['-tq', image]);
  const vma = join(work.path, 'proxmox.vma');
  runOk('zstd', ['-dqf', image, '-o', vma]);
  const restored = join(work.path, 'proxmox-disk.raw');
  const contents = readVma(vma, () => restored);
  assert.deepEqual(contents.devices.map((d) => d.name), ['drive-virtio0']);
  assert.deepEqual(contents.configs.map((c) => c.name), ['qemu-server.conf']);
  assert.equal(new TextDecoder().decode(contents.configs[0]!.data), proxmoxQemuServerConf({ qemuConf: { name: `nixos-${label}`, diskSize: 'auto' } }));
  assert.equal(sha256(restored), sha256(await twin('proxmox')));
});

test('building every format again gives the same bytes', () => {
  const names = FORMATS.map((f) => f.name);
  const again = runOk('node', [CLI, '--toplevel', toplevel, '-f', names.join(','), '-o', join(work.path, 'again')]).stdout.trim().split('\n');
  names.forEach((name, i) => {
    assert.equal(sha256(again[i]!), sha256(images.get(name)!), name);
    if (name === 'amazon') {
      assert.equal(readdirSync(join(work.path, 'again/amazon/nix-support')).join(), 'image-info.json');
    }
  });
});

process.on('exit', () => work.remove());
