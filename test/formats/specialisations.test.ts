/**
 * --toplevel on a system shaped like NixOS 25.05's: bin/switch-to-configuration running
 * the install-grub script that names GRUB, a bootspec whose specialisations sit under
 * org.nixos.specialisation.v1, and specialisation/<name> links. The bootloader is found
 * in the closure and every specialisation gets its boot entry, named as NixOS's
 * install-grub and systemd-boot builder name them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS } from '../helpers/example.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { partitions } from '../helpers/disk.js';
import { runOk, tempDir } from '../helpers/run.js';

const work = tempDir('specialisations');
after(() => work.remove());
let toplevel = '';

before(() => {
  const expression = `(import ${join(EXAMPLE_NIXPKGS, 'nixos/lib/eval-config.nix')} {
    system = "x86_64-linux";
    modules = [ ${join(EXAMPLE_DIR, 'configuration.nix')} {
      networking.hostName = "specialised";
      specialisation.debug.configuration.boot.kernelParams = [ "debug-specialisation" ];
      specialisation.named.configuration = { boot.kernelParams = [ "named-specialisation" ]; boot.loader.grub.configurationName = "Named one"; };
    } ];
  }).config.system.build.toplevel`;
  toplevel = runOk('nix-build', ['--no-out-link', '--expr', expression]).stdout.trim();
});

/** A file of the image's ESP, read with mtools. */
function espFile(image: string, path: string): string {
  const esp = partitions(image).find((p) => p.type.toUpperCase() === 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B')!;
  return runOk('mtype', ['-i', `${image}@@${esp.start}`, `::${path}`], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } }).stdout;
}

test('the toplevel has NixOS 25.05\'s shape: switch-to-configuration runs install-grub, which names GRUB; specialisations in boot.json and specialisation/', () => {
  const switchScript = readFileSync(join(toplevel, 'bin/switch-to-configuration'), 'utf8');
  const installer = /\/nix\/store\/[a-z0-9]{32}-install-grub\.sh/.exec(switchScript);
  assert.ok(installer !== null, 'switch-to-configuration names the install-grub script');
  const installerConfig = /\/nix\/store\/[a-z0-9]{32}-grub-config\.json/.exec(readFileSync(installer[0], 'utf8'));
  assert.ok(installerConfig !== null, 'install-grub names its configuration');
  assert.match(readFileSync(installerConfig[0], 'utf8'), /-grub-[0-9.]+/, 'the configuration names GRUB');
  type Bootspec = { 'org.nixos.bootspec.v1': { toplevel: string } };
  const bootJson = JSON.parse(readFileSync(join(toplevel, 'boot.json'), 'utf8')) as { 'org.nixos.specialisation.v1': Record<string, Bootspec> };
  const specialisations = bootJson['org.nixos.specialisation.v1'];
  assert.deepEqual(Object.keys(specialisations).sort(), ['debug', 'named']);
  for (const name of ['debug', 'named']) {
    const child = specialisations[name]!['org.nixos.bootspec.v1'].toplevel;
    assert.notEqual(child, toplevel);
    assert.equal(readlinkSync(join(toplevel, 'specialisation', name)), child, `specialisation/${name} links to the toplevel its bootspec names`);
    assert.ok(existsSync(join(child, 'boot.json')));
  }
});

test('GRUB (found in the closure) gets one entry per specialisation, named as install-grub names them, and boots the default', async () => {
  const image = runOk('node', [CLI, '--toplevel', toplevel, '-f', 'raw-efi', '-o', join(work.path, 'grub')]).stdout.trim();
  assert.ok(espFile(image, '/EFI/BOOT/BOOTX64.EFI').length > 0, 'GRUB for UEFI is installed');
  const cfg = espFile(image, '/grub/grub.cfg');
  const titles = [...cfg.matchAll(/^menuentry "([^"]+)"/gm)].map((m) => m[1]);
  const version = readFileSync(join(toplevel, 'specialisation/debug/nixos-version'), 'utf8').trim();
  assert.deepEqual(titles, ['NixOS - Default', `NixOS - (debug - 1970-01-01 - ${version})`, 'NixOS - Named one']);
  assert.match(cfg, /menuentry "NixOS - \(debug[^"]*" \{\n  linux \S+ init=\S+-specialised-\S+\/init .*debug-specialisation/);
  const result = await boot(image, 'raw', 'uefi');
  assert.equal(MARKER.exec(result.console)?.[1], 'specialised', result.console.slice(-2000));
});

test('systemd-boot gets nixos-generation-1.conf and one nixos-generation-1-specialisation-<name>.conf per specialisation', () => {
  const image = runOk('node', [CLI, '--toplevel', toplevel, '-f', 'raw-efi', '--bootloader', 'systemd-boot', '-o', join(work.path, 'sdboot')]).stdout.trim();
  const esp = partitions(image).find((p) => p.type.toUpperCase() === 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B')!;
  const listing = runOk('mdir', ['-b', '-i', `${image}@@${esp.start}`, '::/loader/entries'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } }).stdout;
  const entries = listing.trim().split('\n').map((line) => line.replace(/^.*\//, '')).sort();
  assert.deepEqual(entries, ['nixos-generation-1-specialisation-debug.conf', 'nixos-generation-1-specialisation-named.conf', 'nixos-generation-1.conf']);
  assert.match(espFile(image, '/loader/entries/nixos-generation-1-specialisation-debug.conf'), /^title NixOS \(debug\)$/m);
});
