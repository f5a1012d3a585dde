/**
 * Nothing outside the closure enters an image: the scope admits files inside its
 * paths only, after resolving every symlink, and the boot writers ask it for every host
 * file they copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBootspec } from '../../src/boot/bootspec.js';
import { systemdBootTree } from '../../src/boot/systemd-boot.js';
import { ClosureScope, storePathOf } from '../../src/nix/closure-scope.js';
import { checkBootspecInScope } from '../../src/formats/disk-image.js';
import { tempDir } from '../helpers/run.js';

test('store paths are found from any file inside them', () => {
  assert.equal(storePathOf('/nix/store/abc-linux/bzImage'), '/nix/store/abc-linux');
  assert.equal(storePathOf('/nix/store/abc-linux'), '/nix/store/abc-linux');
  assert.equal(storePathOf('/etc/shadow'), undefined);
  assert.equal(storePathOf('/nix/store/'), undefined);
  assert.equal(storePathOf('/nix/storefront/x'), undefined);
});

test('the scope admits files inside its paths and refuses the rest, symlinks resolved', () => {
  const tmp = tempDir('scope');
  try {
    const inside = join(tmp.path, 'system');
    const other = join(tmp.path, 'other');
    mkdirSync(join(inside, 'sub'), { recursive: true });
    mkdirSync(other);
    writeFileSync(join(inside, 'sub/kernel'), 'k');
    writeFileSync(join(other, 'secret'), 's');
    symlinkSync(join(other, 'secret'), join(inside, 'escape'));
    symlinkSync('sub/kernel', join(inside, 'relative'));
    const scope = new ClosureScope([inside]);
    assert.ok(scope.contains(join(inside, 'sub/kernel')));
    assert.ok(scope.contains(join(inside, 'relative')));
    assert.ok(scope.contains(inside));
    assert.ok(!scope.contains(join(other, 'secret')));
    assert.ok(!scope.contains(join(inside, 'escape')), 'a symlink out of the scope is outside');
    assert.ok(!scope.contains(join(inside, '../other/secret')), '.. out of the scope is outside');
    assert.ok(!scope.contains(join(inside, 'missing')));
    assert.ok(!scope.contains('/etc/shadow'));
    assert.throws(
      () => scope.require('/etc/shadow', 'the kernel of the bootspec of "x"'),
      /Cannot put the kernel of the bootspec of "x" into the image: "\/etc\/shadow" is not inside the system's closure$/,
    );
  } finally {
    tmp.remove();
  }
});

function toplevelNaming(dir: string, kernel: string, specialisationInitrd?: string): string {
  mkdirSync(dir, { recursive: true });
  const entry = (label: string, initrd: string): Record<string, unknown> => ({
    system: 'x86_64-linux', init: `${dir}/init`, kernel, initrd, kernelParams: [], label, toplevel: dir,
  });
  writeFileSync(join(dir, 'initrd'), 'i');
  writeFileSync(join(dir, 'bzImage'), 'k');
  const doc: Record<string, unknown> = { 'org.nixos.bootspec.v1': entry('NixOS', `${dir}/initrd`) };
  if (specialisationInitrd !== undefined) {
    doc['org.nixos.specialisation.v1'] = { debug: { 'org.nixos.bootspec.v1': entry('NixOS debug', specialisationInitrd) } };
  }
  writeFileSync(join(dir, 'boot.json'), JSON.stringify(doc));
  return dir;
}

test('a bootspec naming a kernel or initrd outside the closure is refused, specialisations too', () => {
  const tmp = tempDir('scope-bootspec');
  try {
    const good = toplevelNaming(join(tmp.path, 'good'), join(tmp.path, 'good/bzImage'));
    const scopeOf = (dir: string): ClosureScope => new ClosureScope([dir]);
    checkBootspecInScope(readBootspec(good), scopeOf(good));

    const shadow = toplevelNaming(join(tmp.path, 'shadow'), '/etc/shadow');
    assert.throws(() => checkBootspecInScope(readBootspec(shadow), scopeOf(shadow)), /the kernel of the bootspec of ".*shadow" into the image: "\/etc\/shadow"/);

    const special = toplevelNaming(join(tmp.path, 'special'), join(tmp.path, 'special/bzImage'), '/etc/passwd');
    assert.throws(() => checkBootspecInScope(readBootspec(special), scopeOf(special)), /the initrd of the bootspec .*"\/etc\/passwd"/);
  } finally {
    tmp.remove();
  }
});

test('the systemd-boot writer refuses a loader or a kernel from outside the scope', () => {
  const tmp = tempDir('scope-sdboot');
  try {
    const top = toplevelNaming(join(tmp.path, 'sys'), join(tmp.path, 'sys/bzImage'));
    mkdirSync(join(tmp.path, 'elsewhere'));
    const efi = join(tmp.path, 'elsewhere/systemd-bootx64.efi');
    writeFileSync(efi, 'efi');
    const spec = readBootspec(top);
    assert.throws(
      () => systemdBootTree({ type: 'systemd-boot', efiBinary: efi, timeout: 0 }, spec, new ClosureScope([top]), 1),
      /Cannot put the systemd-boot binary of the plan into the image: ".*elsewhere\/systemd-bootx64\.efi"/,
    );
    writeFileSync(join(top, 'systemd-bootx64.efi'), 'efi');
    const tree = systemdBootTree({ type: 'systemd-boot', efiBinary: join(top, 'systemd-bootx64.efi'), timeout: 0 }, spec, new ClosureScope([top]), 1);
    assert.ok(tree.entries.has('EFI'));
  } finally {
    tmp.remove();
  }
});
