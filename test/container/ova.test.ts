import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { imageFromSegments, lazySegment } from '../../src/core/block-image.js';
import { writeOva, type OvaOptions } from '../../src/container/ova.js';
import { writeRaw } from '../../src/container/raw.js';
import { runOk, tempDir } from '../helpers/run.js';
import { assertUsageErrors, randomImage, sha256File, textBytes, writeTo } from './fixtures.js';
import { assertVirtualBoxOvf, readOvf } from './ovf-check.js';
import { assertCleanVmdk, assertVmdkEqualsRaw, walkStreamOptimized } from './vmdk-fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;

function extract(archive: string, into: string): string {
  mkdirSync(into, { recursive: true });
  runOk('tar', ['-xf', archive, '-C', into]);
  return into;
}

/** Every 512-byte header of a tar file whose members are listed by GNU tar, with its magic. */
function headerMagics(path: string): string[] {
  const bytes = readFileSync(path);
  const magics: string[] = [];
  let at = 0;
  while (at + 512 <= bytes.length && bytes[at] !== 0) {
    magics.push(bytes.subarray(at + 257, at + 265).toString('latin1'));
    const size = parseInt(bytes.subarray(at + 124, at + 136).toString('latin1'), 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return magics;
}

test('an OVA holds the OVF, the streamOptimized disk and the manifest, in that order, as ustar', async () => {
  const dir = tempDir('ova');
  try {
    const image = randomImage(3, 45 * MiB + 321, 20, 2 * MiB);
    const raw = await writeTo(join(dir.path, 'disk.raw'), (out) => writeRaw(image, out));
    const ova = await writeTo(join(dir.path, 'nixos.ova'), (out) => writeOva(image, out, { seed: 'ova', epoch: 1_700_000_000, vmName: 'NixOS 24.05 (x86_64-linux)' }));

    const listing = runOk('tar', ['-tvf', ova]).stdout.trim().split('\n');
    assert.equal(listing.length, 3);
    assert.match(listing[0]!, /^-rw-r--r-- 0\/0 +\d+ 2023-11-1\d \d\d:\d\d nixos\.ovf$/);
    assert.match(listing[1]!, / nixos-disk001\.vmdk$/);
    assert.match(listing[2]!, / nixos\.mf$/);
    assert.deepEqual(headerMagics(ova), ['ustar\x0000', 'ustar\x0000', 'ustar\x0000'], 'POSIX ustar headers only');

    const x = extract(ova, join(dir.path, 'x'));
    assert.deepEqual(readdirSync(x).sort(), ['nixos-disk001.vmdk', 'nixos.mf', 'nixos.ovf']);
    const vmdk = join(x, 'nixos-disk001.vmdk');
    const virtualSize = Math.ceil(image.size / 512) * 512;
    assertCleanVmdk(vmdk, virtualSize, 'streamOptimized');
    assertVmdkEqualsRaw(raw, vmdk);
    walkStreamOptimized(vmdk, image);

    const manifest = readFileSync(join(x, 'nixos.mf'), 'latin1');
    assert.equal(manifest, `SHA256(nixos.ovf)= ${sha256File(join(x, 'nixos.ovf'))}\nSHA256(nixos-disk001.vmdk)= ${sha256File(vmdk)}\n`);
    for (const line of manifest.trim().split('\n')) {
      const [, name, digest] = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line)!;
      assert.equal(runOk('sha256sum', [join(x, name!)]).stdout.split(' ')[0], digest, `sha256sum ${name}`);
    }

    const ovf = readOvf(join(x, 'nixos.ovf'));
    assertVirtualBoxOvf(ovf, {
      vmdkName: 'nixos-disk001.vmdk', vmdkSize: statSync(vmdk).size, capacity: virtualSize,
      vmName: 'NixOS 24.05 (x86_64-linux)', memoryMiB: 1536, cpus: 1, controller: 'sata', nicSubtype: 'virtio-net',
    });
    assert.equal(ovf.vboxMachine, null, 'no vbox:Machine section for BIOS firmware');
    const info = JSON.parse(runOk('qemu-img', ['info', '--output=json', vmdk]).stdout) as { 'virtual-size': number };
    assert.equal(ovf.disks[0]!.capacity, String(info['virtual-size']), 'ovf:capacity = qemu-img virtual size');
  } finally {
    dir.remove();
  }
});

test('machine parameters: name, memory, CPUs, IDE controller, NIC type, and EFI through vbox:Machine', async () => {
  const dir = tempDir('ova');
  try {
    const image = randomImage(4, 6 * MiB, 4, 500 * KiB);
    const options: OvaOptions = {
      seed: 'efi', epoch: 1, fileStem: 'appliance', vmName: 'A & <B>', memoryMiB: 4096, cpus: 4,
      controller: 'ide', nic: 'e1000', firmware: 'efi', macAddress: '0800275F0936',
    };
    const ova = await writeTo(join(dir.path, 'other-name.ova'), (out) => writeOva(image, out, options));
    const x = extract(ova, join(dir.path, 'x'));
    assert.deepEqual(readdirSync(x).sort(), ['appliance-disk001.vmdk', 'appliance.mf', 'appliance.ovf']);
    const ovf = readOvf(join(x, 'appliance.ovf'));
    assertVirtualBoxOvf(ovf, {
      vmdkName: 'appliance-disk001.vmdk', vmdkSize: statSync(join(x, 'appliance-disk001.vmdk')).size, capacity: 6 * MiB,
      vmName: 'A & <B>', memoryMiB: 4096, cpus: 4, controller: 'ide', nicSubtype: 'E1000',
    });
    assert.deepEqual(ovf.vboxMachine, { firmware: 'EFI', imageUuids: [`{${ovf.disks[0]!.vboxUuid!}}`], ramSize: '4096', cpuCount: '4' });
    assert.match(readFileSync(join(x, 'appliance.ovf'), 'latin1'), /MACAddress="0800275F0936"/);
  } finally {
    dir.remove();
  }
});

test('an OVA of a 12 GiB sparse disk is small and its disk checks clean', async () => {
  const dir = tempDir('ova');
  try {
    const segments = Array.from({ length: 20 }, (_, i) => lazySegment(i * 400 * KiB + 7, 100 * KiB, () => textBytes(100 * KiB, `seg ${i} `)));
    const image = imageFromSegments(12 * 1024 * MiB, segments);
    const a = await writeTo(join(dir.path, 'a.ova'), (out) => writeOva(image, out, { seed: 's', epoch: 5, fileStem: 'n' }));
    assert.ok(statSync(a).size < 2 * MiB);
    const x = extract(a, join(dir.path, 'x'));
    assertCleanVmdk(join(x, 'n-disk001.vmdk'), image.size, 'streamOptimized');
    walkStreamOptimized(join(x, 'n-disk001.vmdk'), image);
  } finally {
    dir.remove();
  }
});

test('bad OVA options are rejected as usage errors', async () => {
  const dir = tempDir('ova');
  try {
    await assertUsageErrors(dir.path, 'bad.ova', (out, options: Partial<OvaOptions>) => writeOva(imageFromSegments(MiB, []), out, { seed: 's', epoch: 1, ...options }), [
      [{ memoryMiB: 0 }, /0 MiB of memory/],
      [{ cpus: 1.5 }, /1\.5 CPUs/],
      [{ controller: 'scsi' }, /controller "scsi"/],
      [{ nic: 'rtl8139' }, /network adapter "rtl8139"/],
      [{ firmware: 'uefi' }, /firmware "uefi"/],
      [{ macAddress: '08:00:27:5F:09:36' }, /MAC address/],
      [{ fileStem: 'a/b' }, /OVA members/],
      [{ vmName: '' }, /VM name ""/],
    ]);
  } finally {
    dir.remove();
  }
});
