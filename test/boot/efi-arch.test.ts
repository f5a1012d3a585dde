import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBootspec } from '../../src/boot/bootspec.js';
import { efiArchOf, systemdBootArch } from '../../src/boot/efi-arch.js';
import { systemdBootTree } from '../../src/boot/systemd-boot.js';
import { ImageError, UsageError } from '../../src/core/errors.js';
import type { DirNode } from '../../src/fs/tree.js';
import { ClosureScope } from '../../src/nix/closure-scope.js';
import { tempDir } from '../helpers/run.js';

test('EFI architectures are named as nixpkgs names them', () => {
  assert.deepEqual(['x86_64-linux', 'i686-linux', 'aarch64-linux', 'armv7l-linux', 'riscv64-linux'].map(efiArchOf), ['x64', 'ia32', 'aa64', 'arm', 'riscv64']);
  assert.throws(() => efiArchOf('mips64el-linux'), UsageError);
  assert.equal(systemdBootArch('/nix/store/x-systemd/lib/systemd/boot/efi/systemd-bootaa64.efi'), 'aa64');
  assert.equal(systemdBootArch('/nix/store/x-systemd/lib/systemd/boot/efi/linuxx64.efi.stub'), undefined);
});

test('systemd-boot goes where its architecture says: EFI/systemd/systemd-boot<arch>.efi and EFI/BOOT/BOOT<ARCH>.EFI', () => {
  const tmp = tempDir('efi-arch');
  try {
    const top = join(tmp.path, 'sys');
    mkdirSync(top);
    writeFileSync(join(top, 'kernel-file'), 'k');
    const entry = { system: 'aarch64-linux', init: `${top}/init`, kernel: `${top}/kernel-file`, kernelParams: [], label: 'NixOS 25.05', toplevel: top };
    writeFileSync(join(top, 'boot.json'), JSON.stringify({ 'org.nixos.bootspec.v1': entry }));
    const binary = join(tmp.path, 'systemd-bootaa64.efi');
    writeFileSync(binary, 'efi');
    const scope = new ClosureScope([tmp.path]);
    const tree = systemdBootTree({ type: 'systemd-boot', efiBinary: binary, timeout: 0 }, readBootspec(top), scope, 1);
    const efi = tree.entries.get('EFI') as DirNode;
    assert.deepEqual([...(efi.entries.get('systemd') as DirNode).entries.keys()], ['systemd-bootaa64.efi']);
    assert.deepEqual([...(efi.entries.get('BOOT') as DirNode).entries.keys()], ['BOOTAA64.EFI']);
    const oddName = join(tmp.path, 'loader.efi');
    writeFileSync(oddName, 'efi');
    assert.throws(() => systemdBootTree({ type: 'systemd-boot', efiBinary: oddName, timeout: 0 }, readBootspec(top), scope, 1), ImageError);
  } finally {
    tmp.remove();
  }
});
