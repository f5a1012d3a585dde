/**
 * extlinux.conf as generic-extlinux-compatible's builder writes it for an image: the
 * header, TIMEOUT (and the menu title) for each boot.loader.timeout, the default entry
 * with the copied boot files, FDTDIR or FDT, and the specialisations' entries; and the
 * /boot tree with the copies, taken only from inside the closure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootEntry, Bootspec } from '../../src/boot/bootspec.js';
import { extlinuxConfig, extlinuxTree } from '../../src/boot/extlinux.js';
import { ImageError } from '../../src/core/errors.js';
import type { DirNode, FileNode } from '../../src/fs/tree.js';
import { ClosureScope } from '../../src/nix/closure-scope.js';
import type { ExtlinuxPlan } from '../../src/plan/types.js';
import { tempDir } from '../helpers/run.js';

const K = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.1/Image';
const I = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-initrd-linux-6.1/initrd';
const T = '/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-pi-25.05';

function entry(toplevel: string, label: string, params: string[]): BootEntry {
  return { label, toplevel, kernel: K, initrd: I, init: `${toplevel}/init`, kernelParams: params, system: 'aarch64-linux' };
}

const plan = (timeout: number | null, deviceTreeName: string | null = null, useGenerationDeviceTree = true): ExtlinuxPlan =>
  ({ type: 'extlinux', timeout, useGenerationDeviceTree, deviceTreeName });

test('the default entry: header, TIMEOUT 50 for 5 s with the menu title, the copies under ../nixos, init= first, FDTDIR', () => {
  const bootspec: Bootspec = { ...entry(T, 'NixOS 25.05', ['console=ttyAMA0', 'loglevel=7']), specialisations: new Map() };
  const dtbs = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.1/dtbs';
  assert.equal(extlinuxConfig(bootspec, plan(5), () => dtbs), [
    '# Generated file, all changes will be lost on nixos-rebuild!',
    '',
    '# Change this to e.g. nixos-42 to temporarily boot to an older configuration.',
    'DEFAULT nixos-default',
    '',
    'TIMEOUT 50',
    `MENU TITLE ${'-'.repeat(60)}`,
    '',
    'LABEL nixos-default',
    '  MENU LABEL NixOS - Default',
    '  LINUX ../nixos/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.1-Image',
    '  INITRD ../nixos/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-initrd-linux-6.1-initrd',
    `  APPEND init=${T}/init console=ttyAMA0 loglevel=7`,
    '  FDTDIR ../nixos/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.1-dtbs',
    '',
  ].join('\n'));
});

test('TIMEOUT: 0 boots at once (TIMEOUT 1, no menu title), null waits (TIMEOUT 0)', () => {
  const bootspec: Bootspec = { ...entry(T, 'NixOS', []), specialisations: new Map() };
  const atOnce = extlinuxConfig(bootspec, plan(0));
  assert.match(atOnce, /\nTIMEOUT 1\n\nLABEL nixos-default\n/);
  assert.doesNotMatch(atOnce, /MENU TITLE/);
  assert.match(extlinuxConfig(bootspec, plan(null)), /\nTIMEOUT 0\nMENU TITLE -{60}\n/);
});

test('FDT with hardware.deviceTree.name, no device tree line without dtbs or with useGenerationDeviceTree off, and a name without dtbs is refused', () => {
  const bootspec: Bootspec = { ...entry(T, 'NixOS', []), specialisations: new Map() };
  const dtbs = '/nix/store/dddddddddddddddddddddddddddddddd-dtbs';
  assert.match(extlinuxConfig(bootspec, plan(5, 'broadcom/bcm2711-rpi-4-b.dtb'), () => dtbs), /\n {2}FDT \.\.\/nixos\/dddddddddddddddddddddddddddddddd-dtbs\/broadcom\/bcm2711-rpi-4-b\.dtb\n$/);
  assert.doesNotMatch(extlinuxConfig(bootspec, plan(5)), /FDT/);
  assert.doesNotMatch(extlinuxConfig(bootspec, plan(5, null, false), () => dtbs), /FDT/);
  assert.throws(() => extlinuxConfig(bootspec, plan(5, 'x.dtb')), (e: unknown) => e instanceof ImageError && /hardware\.deviceTree\.name is "x\.dtb"/.test(e.message));
});

test('specialisations get the entries the builder writes for them in generation 1', () => {
  const child = '/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-nixos-system-pi-25.05';
  const bootspec: Bootspec = { ...entry(T, 'NixOS 25.05', []), specialisations: new Map([['debug', entry(child, 'NixOS 25.05', ['debug'])]]) };
  const text = extlinuxConfig(bootspec, plan(5));
  assert.match(text, /\nLABEL nixos-1-debug\n {2}MENU LABEL NixOS - Configuration 1-debug \(1970-01-01 00:00 - NixOS 25\.05\)\n/);
  assert.match(text, new RegExp(`APPEND init=${child}/init debug\\n`));
  assert.equal(text.match(/^LABEL /gm)?.length, 2);
});

test('/boot holds extlinux.conf and read-only copies of the kernel, the initrd and the device trees, from the closure only', () => {
  const tmp = tempDir('extlinux');
  try {
    const top = join(tmp.path, 'system');
    const kernelDir = join(tmp.path, 'linux');
    mkdirSync(join(kernelDir, 'dtbs', 'broadcom'), { recursive: true });
    mkdirSync(top);
    writeFileSync(join(kernelDir, 'Image'), 'kernel');
    writeFileSync(join(kernelDir, 'initrd'), 'initrd');
    writeFileSync(join(kernelDir, 'dtbs', 'broadcom', 'bcm2711-rpi-4-b.dtb'), 'dtb');
    symlinkSync(join(kernelDir, 'dtbs'), join(top, 'dtbs'));
    const own: BootEntry = { label: 'NixOS', toplevel: top, kernel: join(kernelDir, 'Image'), initrd: join(kernelDir, 'initrd'), init: `${top}/init`, kernelParams: [], system: 'aarch64-linux' };
    const bootspec: Bootspec = { ...own, specialisations: new Map() };
    const tree = extlinuxTree(plan(5), bootspec, new ClosureScope([tmp.path]), 1);
    const nixos = tree.entries.get('nixos') as DirNode;
    const names = [...nixos.entries.keys()].sort();
    assert.equal(names.length, 3, names.join(' '));
    const kernelCopy = [...nixos.entries.values()].find((n) => n.kind === 'file' && (n.content as { path: string }).path.endsWith('/Image')) as FileNode;
    assert.equal(kernelCopy.permissions, 0o444);
    assert.ok([...nixos.entries.values()].some((n) => n.kind === 'dir'), 'the dtbs directory is copied');
    assert.ok((tree.entries.get('extlinux') as DirNode).entries.has('extlinux.conf'));
    // A kernel outside the closure is refused before anything is read.
    const outside: Bootspec = { ...own, kernel: '/etc/hostname', specialisations: new Map() };
    assert.throws(() => extlinuxTree(plan(5), outside, new ClosureScope([tmp.path]), 1), (e: unknown) => e instanceof ImageError && e.code === 'input.outside-closure');
  } finally {
    tmp.remove();
  }
});
