/**
 * Untrusted input stays inside: a broken or malicious bootspec (invalid JSON, a kernel path
 * leaving the closure through "..", a line break in a parameter or a label, a 10 MB
 * command line, a specialisation name with "/"), a registration naming paths that are not
 * in it or not in the store, a symlink in the firmware directory: each refused with one
 * line before anything is read into an image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_COMMAND_LINE, readBootspec } from '../../src/boot/bootspec.js';
import { ImageError } from '../../src/core/errors.js';
import { checkBootspecInScope } from '../../src/formats/disk-image.js';
import { buildFat } from '../../src/fs/fat/index.js';
import { scanHostTree, type DirNode } from '../../src/fs/tree.js';
import { ClosureScope } from '../../src/nix/closure-scope.js';
import { formatRegistration } from '../../src/nix/registration.js';
import { registrationClosures } from '../../src/nix/registration-closure.js';
import { nixosRootTree } from '../../src/nix/root-tree.js';
import { tempDir } from '../helpers/run.js';

/** A toplevel directory whose boot.json is `v1` (merged over a valid document) and `specialisations`. */
function toplevelWith(root: string, v1: Record<string, unknown>, specialisations: Record<string, unknown> = {}): string {
  const top = join(root, `system-${Math.random().toString(36).slice(2)}`);
  mkdirSync(top);
  writeFileSync(join(top, 'kernel-file'), 'kernel');
  const entry = { system: 'x86_64-linux', init: `${top}/init`, kernel: `${top}/kernel-file`, kernelParams: ['console=ttyS0'], label: 'NixOS 25.05', toplevel: top, ...v1 };
  writeFileSync(join(top, 'boot.json'), JSON.stringify({ 'org.nixos.bootspec.v1': entry, 'org.nixos.specialisation.v1': specialisations }));
  return top;
}

/** Asserts a one-line ImageError whose message matches `pattern`. */
function refused(action: () => unknown, pattern: RegExp): void {
  assert.throws(action, (e: unknown) => {
    assert.ok(e instanceof ImageError, String(e));
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

test('a bootspec that is not JSON is one line naming the toplevel', () => {
  const tmp = tempDir('untrusted');
  try {
    const top = join(tmp.path, 'system');
    mkdirSync(top);
    writeFileSync(join(top, 'boot.json'), '{"org.nixos.bootspec.v1": {');
    refused(() => readBootspec(top), /boot\.json is not JSON/);
  } finally {
    tmp.remove();
  }
});

test('a kernel path that leaves the closure through ".." is refused before it is read', () => {
  const tmp = tempDir('untrusted');
  try {
    const top = toplevelWith(tmp.path, {});
    const escaping = `${top}/../../../../../../etc/hostname`;
    const bootspec = readBootspec(toplevelWith(tmp.path, { kernel: escaping }));
    refused(() => checkBootspecInScope({ ...bootspec, toplevel: top }, new ClosureScope([tmp.path])), /is not inside the system's closure/);
  } finally {
    tmp.remove();
  }
});

test('line breaks and control characters in what the menus are made of are refused', () => {
  const tmp = tempDir('untrusted');
  try {
    refused(() => readBootspec(toplevelWith(tmp.path, { kernelParams: ['quiet', 'x\nmenuentry "evil" {'] })), /a kernel parameter holds a control character/);
    refused(() => readBootspec(toplevelWith(tmp.path, { label: 'NixOS\r\ntimeout 0' })), /"label" holds a control character/);
    refused(() => readBootspec(toplevelWith(tmp.path, { init: '/nix/store/x/init\u0000' })), /"init" holds a control character/);
  } finally {
    tmp.remove();
  }
});

test('a 10 MB kernel command line is refused with its size', () => {
  const tmp = tempDir('untrusted');
  try {
    const huge = `x=${'a'.repeat(10 * 1024 * 1024)}`;
    refused(() => readBootspec(toplevelWith(tmp.path, { kernelParams: [huge] })), new RegExp(`the kernel command line is \\d+ bytes, more than ${MAX_COMMAND_LINE}`));
    // A long but reasonable line is fine.
    assert.equal(readBootspec(toplevelWith(tmp.path, { kernelParams: ['y'.repeat(3000)] })).kernelParams[0]!.length, 3000);
  } finally {
    tmp.remove();
  }
});

test('a specialisation name with "/" or ".." is refused (it becomes a file name and a menu label)', () => {
  const tmp = tempDir('untrusted');
  try {
    const child = toplevelWith(tmp.path, {});
    const childDoc = { 'org.nixos.bootspec.v1': { system: 'x86_64-linux', init: `${child}/init`, kernel: `${child}/kernel-file`, kernelParams: [], label: 'NixOS', toplevel: child } };
    for (const name of ['../../loader/loader', 'a/b', 'with space', '']) {
      refused(() => readBootspec(toplevelWith(tmp.path, {}, { [name]: childDoc })), /the specialisation name .* is not letters, digits/);
    }
    assert.equal(readBootspec(toplevelWith(tmp.path, {}, { 'debug_1-x': childDoc })).specialisations.size, 1);
  } finally {
    tmp.remove();
  }
});

test('a registration that names a path it does not hold, or a path outside the store, is refused', async () => {
  const tmp = tempDir('untrusted');
  try {
    const top = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system';
    const hash = `sha256:${'0'.repeat(64)}`;
    const missing = join(tmp.path, 'missing');
    writeFileSync(missing, formatRegistration([{ path: top, narHash: hash, narSize: 1, deriver: undefined, references: ['/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-gone'] }]));
    refused(() => registrationClosures(missing).closureOf(top), /Cannot find "\/nix\/store\/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-gone" in the registration/);
    const outside = join(tmp.path, 'outside');
    writeFileSync(outside, formatRegistration([
      { path: top, narHash: hash, narSize: 1, deriver: undefined, references: ['/etc'] },
      { path: '/etc', narHash: hash, narSize: 1, deriver: undefined, references: [] },
    ]));
    const closure = registrationClosures(outside).closureOf(top);
    await assert.rejects(nixosRootTree(closure, 1), (e: unknown) => e instanceof ImageError && /closure entries must be top-level paths of \/nix\/store/.test(e.message));
  } finally {
    tmp.remove();
  }
});

test('a symlink in the firmware directory is refused, never followed', () => {
  const tmp = tempDir('untrusted');
  try {
    const firmware = join(tmp.path, 'firmware');
    mkdirSync(firmware);
    writeFileSync(join(firmware, 'config.txt'), 'arm_64bit=1\n');
    symlinkSync('/etc/shadow', join(firmware, 'shadow'));
    const tree = scanHostTree(firmware, { maxTime: 1, uid: 0, gid: 0 }) as DirNode;
    refused(() => buildFat(tree, { sizeBytes: 30 << 20, label: 'FIRMWARE', volumeId: 1 }), /Cannot store symlink .*shadow.* on FAT/);
  } finally {
    tmp.remove();
  }
});
