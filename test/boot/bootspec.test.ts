import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine, readBootspec, storeFileName } from '../../src/boot/bootspec.js';
import { grubConfig, specialisationMenuNames } from '../../src/boot/grub.js';
import { systemdBootTree } from '../../src/boot/systemd-boot.js';
import { ClosureScope } from '../../src/nix/closure-scope.js';
import type { DirNode, FileNode } from '../../src/fs/tree.js';
import { tempDir } from '../helpers/run.js';

function entry(toplevel: string, label: string, params: string[]): Record<string, unknown> {
  return {
    system: 'x86_64-linux', init: `${toplevel}/init`, initrd: `${toplevel}/initrd-file`, kernel: `${toplevel}/kernel-file`,
    kernelParams: params, label, toplevel,
  };
}

function fakeToplevel(dir: string, withSpecialisation: boolean): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kernel-file'), 'kernel');
  writeFileSync(join(dir, 'initrd-file'), 'initrd');
  const doc: Record<string, unknown> = {
    'org.nixos.bootspec.v1': entry(dir, 'NixOS 25.05', ['console=ttyS0,38400', 'quiet']),
    'org.example.unknown-extension': { ignored: true },
  };
  if (withSpecialisation) doc['org.nixos.specialisation.v1'] = { debug: { 'org.nixos.bootspec.v1': entry(dir, 'NixOS 25.05 debug', ['debug']) } };
  writeFileSync(join(dir, 'boot.json'), JSON.stringify(doc));
  return dir;
}

test('bootspec v1 is read, unknown extensions ignored, specialisations kept', () => {
  const tmp = tempDir('bootspec');
  try {
    const spec = readBootspec(fakeToplevel(join(tmp.path, 'sys'), true));
    assert.equal(spec.label, 'NixOS 25.05');
    assert.deepEqual(spec.kernelParams, ['console=ttyS0,38400', 'quiet']);
    assert.equal(commandLine(spec), `init=${spec.init} console=ttyS0,38400 quiet`);
    assert.deepEqual([...spec.specialisations.keys()], ['debug']);
  } finally {
    tmp.remove();
  }
});

test('grub.cfg has one entry per generation and specialisation, and a serial terminal for console=ttyS*', () => {
  const tmp = tempDir('grubcfg');
  try {
    const spec = readBootspec(fakeToplevel(join(tmp.path, 'sys'), true));
    const cfg = grubConfig(spec, 5);
    assert.match(cfg, /set timeout=5/);
    assert.match(cfg, /serial --unit=0 --speed=38400/);
    assert.match(cfg, /menuentry "NixOS - Default" \{\n  linux \/kernels\/\S+ init=\S+\/init console=ttyS0,38400 quiet\n  initrd \/kernels\/\S+\n\}/);
    assert.match(cfg, /\}\nmenuentry "NixOS - \(debug\)" \{\n  linux \/kernels\/\S+ init=\S+\/init debug\n/);
    assert.match(grubConfig(spec, null), /set timeout=-1/);
    assert.match(grubConfig(readBootspec(fakeToplevel(join(tmp.path, 'plain'), false)), 1), /menuentry "NixOS" \{/, 'without specialisations the entry is "NixOS"');
  } finally {
    tmp.remove();
  }
});

test('specialisations are named as install-grub names them: configuration-name, else (name - date - version)', () => {
  const tmp = tempDir('grub-names');
  try {
    const top = fakeToplevel(join(tmp.path, 'sys'), true);
    mkdirSync(join(top, 'specialisation'));
    symlinkSync(top, join(top, 'specialisation', 'debug'));
    writeFileSync(join(top, 'nixos-version'), '25.05.20250101.abcdef0\n');
    const spec = readBootspec(top);
    const scope = new ClosureScope([tmp.path]);
    const linkDay = new Date(lstatSync(join(top, 'specialisation', 'debug')).mtimeMs).toISOString().slice(0, 10);
    assert.deepEqual([...specialisationMenuNames(spec, scope)], [['debug', `(debug - ${linkDay} - 25.05.20250101.abcdef0)`]]);
    writeFileSync(join(top, 'configuration-name'), 'Debug kernel\n');
    assert.deepEqual([...specialisationMenuNames(spec, scope)], [['debug', 'Debug kernel']]);
    assert.throws(() => specialisationMenuNames(spec, new ClosureScope([join(tmp.path, 'elsewhere')])), /outside|closure/i, 'metadata outside the closure is not read');
  } finally {
    tmp.remove();
  }
});

test('systemd-boot gets one loader entry per specialisation and waits when the timeout is null', () => {
  const tmp = tempDir('sdboot');
  try {
    const top = fakeToplevel(join(tmp.path, 'sys'), true);
    const efi = join(tmp.path, 'systemd-bootx64.efi');
    writeFileSync(efi, 'efi');
    const tree = systemdBootTree({ type: 'systemd-boot', efiBinary: efi, timeout: null }, readBootspec(top), new ClosureScope([tmp.path]), 1);
    const loader = (tree.entries.get('loader') as DirNode);
    const entries = [...(loader.entries.get('entries') as DirNode).entries.keys()].sort();
    assert.deepEqual(entries, ['nixos-generation-1-specialisation-debug.conf', 'nixos-generation-1.conf']);
    const conf = (loader.entries.get('loader.conf') as FileNode).content;
    assert.ok(conf.kind === 'bytes');
    assert.match(new TextDecoder().decode(conf.bytes), /^timeout menu-force$/m);
  } finally {
    tmp.remove();
  }
});

test('a toplevel without boot.json falls back to kernel, initrd, init and kernel-params', () => {
  const tmp = tempDir('legacy');
  try {
    const dir = join(tmp.path, 'legacy-system');
    mkdirSync(dir);
    writeFileSync(join(tmp.path, 'bzImage'), 'k');
    symlinkSync(join(tmp.path, 'bzImage'), join(dir, 'kernel'));
    writeFileSync(join(dir, 'kernel-params'), 'loglevel=4 console=ttyS0\n');
    writeFileSync(join(dir, 'nixos-version'), '22.11\n');
    writeFileSync(join(dir, 'system'), 'x86_64-linux');
    const spec = readBootspec(dir);
    assert.equal(spec.kernel, join(tmp.path, 'bzImage'));
    assert.equal(spec.initrd, undefined);
    assert.deepEqual(spec.kernelParams, ['loglevel=4', 'console=ttyS0']);
    assert.equal(spec.label, 'NixOS 22.11');
  } finally {
    tmp.remove();
  }
});

test('a broken bootspec is reported with the toplevel and the field', () => {
  const tmp = tempDir('broken');
  try {
    const dir = join(tmp.path, 'sys');
    mkdirSync(dir);
    writeFileSync(join(dir, 'boot.json'), JSON.stringify({ 'org.nixos.bootspec.v1': { kernel: '/k' } }));
    assert.throws(() => readBootspec(dir), /Cannot read the bootspec of ".*sys": "kernelParams" must be a list of strings/);
  } finally {
    tmp.remove();
  }
});

test('boot files are named as NixOS names them: <hash>-<name>-<file>', () => {
  assert.equal(storeFileName('/nix/store/abc-linux-6.1/bzImage'), 'abc-linux-6.1-bzImage');
});
