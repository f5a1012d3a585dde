import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputFile } from '../../src/core/output-file.js';
import { UnitCache } from '../../src/core/unit-cache.js';
import { writeOva } from '../../src/container/ova.js';
import { writeRaw } from '../../src/container/raw.js';
import { writeVagrantBox } from '../../src/container/vagrant-box.js';
import { runOk, tempDir } from '../helpers/run.js';
import { randomImage, sha256File, writeTo } from './fixtures.js';
import { assertVirtualBoxOvf, readOvf } from './ovf-check.js';
import { assertCleanVmdk, assertVmdkEqualsRaw, walkStreamOptimized } from './vmdk-fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;

test('a Vagrant box is a tar.gz of metadata.json, Vagrantfile, box.ovf, the disk and box.mf, as nixpkgs packs it', async () => {
  const dir = tempDir('box');
  try {
    const image = randomImage(8, 33 * MiB + 5, 16, 2 * MiB);
    const raw = await writeTo(join(dir.path, 'disk.raw'), (out) => writeRaw(image, out));
    const box = await writeTo(join(dir.path, 'virtualbox-vagrant.box'), (out) => writeVagrantBox(image, out, { seed: 'box', epoch: 1_700_000_000 }));
    assert.deepEqual(readdirSync(dir.path).sort(), ['disk.raw', 'virtualbox-vagrant.box'], 'the temporary disk is gone');

    runOk('gzip', ['-t', box]);
    const listing = runOk('tar', ['-tzvf', box]).stdout.trim().split('\n');
    assert.deepEqual(listing.map((l) => l.split(/ +/).at(-1)), ['./', './Vagrantfile', './box-disk001.vmdk', './box.mf', './box.ovf', './metadata.json']);
    assert.match(listing[0]!, /^drwxr-xr-x 0\/0 /);
    for (const line of listing.slice(1)) assert.match(line, /^-rw-r--r-- 0\/0 /);
    const names = JSON.parse(runOk('python3', ['-c', 'import json, sys, tarfile; print(json.dumps(tarfile.open(sys.argv[1], "r:gz").getnames()))', box]).stdout) as string[];
    assert.equal(names.length, 6, 'Python reads the gzip stream');

    const x = join(dir.path, 'x');
    mkdirSync(x);
    runOk('tar', ['-xzf', box, '-C', x]);
    assert.equal(readFileSync(join(x, 'metadata.json'), 'utf8'), '{"provider":"virtualbox"}\n');
    assert.deepEqual(JSON.parse(readFileSync(join(x, 'metadata.json'), 'utf8')), { provider: 'virtualbox' });
    assert.equal(readFileSync(join(x, 'Vagrantfile'), 'utf8'), 'Vagrant.configure("2") do |config|\n  config.vm.base_mac = "0800275F0936"\nend\n');

    const vmdk = join(x, 'box-disk001.vmdk');
    assertCleanVmdk(vmdk, Math.ceil(image.size / 512) * 512, 'streamOptimized');
    assertVmdkEqualsRaw(raw, vmdk);
    walkStreamOptimized(vmdk, image);
    assertVirtualBoxOvf(readOvf(join(x, 'box.ovf')), {
      vmdkName: 'box-disk001.vmdk', vmdkSize: statSync(vmdk).size, capacity: Math.ceil(image.size / 512) * 512,
      vmName: 'NixOS', memoryMiB: 1536, cpus: 1, controller: 'sata', nicSubtype: 'virtio-net',
    });
    assert.equal(readFileSync(join(x, 'box.mf'), 'latin1'),
      `SHA256(box.ovf)= ${sha256File(join(x, 'box.ovf'))}\nSHA256(box-disk001.vmdk)= ${sha256File(vmdk)}\n`);
  } finally {
    dir.remove();
  }
});

test('an EFI box carries the Vagrantfile base MAC in its vbox:Machine section', async () => {
  const dir = tempDir('box');
  try {
    const box = await writeTo(join(dir.path, 'efi.box'), (out) => writeVagrantBox(randomImage(9, 4 * MiB, 3, 300 * KiB), out, { seed: 'b', epoch: 1, firmware: 'efi', vmName: 'efi box' }));
    const ovf = runOk('tar', ['-xzOf', box, './box.ovf']).stdout;
    assert.match(ovf, /<Firmware type="EFI"\/>/);
    assert.match(ovf, /MACAddress="0800275F0936"/);
    assert.match(ovf, /<VirtualSystem ovf:id="efi box">/);
  } finally {
    dir.remove();
  }
});

test('an OVA and a Vagrant box built from a warm unit cache are the same bytes as without it, every grain and gzip piece found', async () => {
  const dir = tempDir('box-cache');
  try {
    const image = randomImage(9, 20 * MiB + 3, 12, 2 * MiB);
    const cacheAt = join(dir.path, 'cache');
    const withCache = (): UnitCache => new UnitCache({ directory: cacheAt, maxBytes: 1 << 30, warn: (line) => assert.fail(line) });
    for (const [name, write] of [
      ['nixos.ova', (out: OutputFile, cache?: UnitCache) => writeOva(image, out, { seed: 'ova', epoch: 1, cache })],
      ['nixos.box', (out: OutputFile, cache?: UnitCache) => writeVagrantBox(image, out, { seed: 'box', epoch: 1, cache })],
    ] as const) {
      // Each build in a directory of its own: the members are named after the output.
      const at = (build: string): string => {
        mkdirSync(join(dir.path, build), { recursive: true });
        return join(dir.path, build, name);
      };
      const plain = await writeTo(at('plain'), (out) => write(out));
      await writeTo(at('cold'), (out) => write(out, withCache()));
      const warmCache = withCache();
      const warm = await writeTo(at('warm'), (out) => write(out, warmCache));
      assert.equal(sha256File(warm), sha256File(plain), name);
      assert.equal(warmCache.misses, 0, name);
      const kinds = [...warmCache.byKind.keys()].sort();
      assert.deepEqual(kinds, name.endsWith('.box') ? ['gzip piece', 'vmdk grain'] : ['vmdk grain'], name);
    }
  } finally {
    dir.remove();
  }
});
