/**
 * Configurations as users bring them (test/fixtures/user-configurations), evaluated by
 * real Nix against the stand-in through the CLI, built and booted in QEMU:
 * - nixos-generate-config's pair (root by UUID, systemd-boot, canTouchEfiVariables) as
 *   qcow-efi, raw-efi and qcow: the format's filesystems and removable-media settings
 *   win at mkImageMediaOverride instead of conflicting or tripping an assertion;
 * - a flake host from nixpkgs.lib.nixosSystem with nixpkgs.hostPlatform and its own
 *   virtualisation.diskSize, built with --flake;
 * - GRUB on /dev/sda set plainly, as raw (the user's device wins over nixos-generators'
 *   mkDefault) and amazon (where nixpkgs' own plain /dev/xvda would conflict with it).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS, REPO } from '../helpers/example.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { run, runOk, tempDir } from '../helpers/run.js';

const FIXTURES = join(REPO, 'test/fixtures/user-configurations');
const work = tempDir('user-configurations');
after(() => work.remove());

/** Builds with the CLI and returns the printed image paths by format. */
function build(source: string[], formats: string[], out: string, cwd?: string): Map<string, string> {
  const result = runOk('node', [CLI, ...source, '-f', formats.join(','), '-o', join(work.path, out), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`], cwd === undefined ? {} : { cwd });
  const paths = result.stdout.trim().split('\n');
  assert.equal(paths.length, formats.length, result.stderr);
  return new Map(formats.map((format, i) => [format, paths[i]!]));
}

async function assertBoots(image: string, drive: string, firmware: 'bios' | 'uefi', host: string, esp: 'ok' | 'none'): Promise<string> {
  const result = await boot(image, drive, firmware);
  const marker = MARKER.exec(result.console);
  assert.ok(marker !== null, `${image} printed no marker:\n${result.console.slice(-3000)}`);
  assert.deepEqual(marker.slice(1), [host, esp, 'ok', 'ok', 'root']);
  return result.console;
}

test('nixos-generate-config\'s configuration.nix and hardware-configuration.nix build as qcow-efi, raw-efi and qcow, and boot with systemd-boot', async () => {
  const config = join(FIXTURES, 'nixos-generate-config/configuration.nix');
  const images = build(['-c', config], ['qcow-efi', 'raw-efi', 'qcow'], 'generated');
  for (const [format, drive] of [['qcow-efi', 'qcow2'], ['raw-efi', 'raw'], ['qcow', 'qcow2']] as const) {
    const console = await assertBoots(images.get(format)!, drive, 'uefi', 'generated-config', 'ok');
    assert.doesNotMatch(console, /GNU GRUB/, `${format}: the configuration's systemd-boot, not GRUB`);
  }
});

test('a flake host from nixpkgs.lib.nixosSystem with nixpkgs.hostPlatform and virtualisation.diskSize = 8192 builds with --flake .#host', async () => {
  const flake = join(work.path, 'flake');
  const nixpkgs = join(work.path, 'nixpkgs');
  cpSync(join(FIXTURES, 'flake'), flake, { recursive: true });
  // The stand-in with its Debian packages inside, as a flake input is copied whole.
  cpSync(EXAMPLE_NIXPKGS, nixpkgs, { recursive: true });
  cpSync(join(EXAMPLE_DIR, 'debs'), join(nixpkgs, 'debs'), { recursive: true });
  const flakeFile = join(flake, 'flake.nix');
  writeFileSync(flakeFile, readFileSync(flakeFile, 'utf8').replaceAll('@nixpkgs-url@', `path:${nixpkgs}`));
  const images = build(['--flake', '.#host'], ['qcow'], 'flake-out', flake);
  const image = images.get('qcow')!;
  const info = JSON.parse(runOk('qemu-img', ['info', '--output=json', image]).stdout) as { 'virtual-size': number };
  assert.equal(info['virtual-size'], 8192 * 1024 * 1024, 'the configuration\'s virtualisation.diskSize is the disk size');
  await assertBoots(image, 'qcow2', 'bios', 'flake-host', 'ok');
});

test('boot.loader.grub.device = "/dev/sda" builds as raw and amazon, and both boot', async () => {
  const images = build(['-c', join(FIXTURES, 'grub-device/configuration.nix')], ['raw', 'amazon'], 'grub-device');
  await assertBoots(images.get('raw')!, 'raw', 'bios', 'grub-device', 'none');
  await assertBoots(images.get('amazon')!, 'vpc', 'bios', 'grub-device', 'none');
});

test('GRUB\'s device: the configuration\'s /dev/sda wins over raw\'s mkDefault; amazon\'s /dev/xvda wins at mkImageMediaOverride instead of conflicting', () => {
  const devices = (format: string): string[] => JSON.parse(runOk('nix-instantiate', [
    '--eval', '--strict', '--json', join(REPO, 'nix/eval.nix'), '-A', 'config.boot.loader.grub.devices',
    '--arg', 'configuration', join(FIXTURES, 'grub-device/configuration.nix'),
    '--argstr', 'formatModule', join(REPO, 'nix/formats', `${format}.nix`), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`,
  ]).stdout) as string[];
  assert.deepEqual(devices('raw'), ['/dev/sda']);
  assert.deepEqual(devices('amazon'), ['/dev/xvda']);
});

test('the stand-in meets these configurations with NixOS\'s own assertions: removable GRUB with canTouchEfiVariables fails as a system, and builds as raw-efi', () => {
  const config = join(work.path, 'removable-grub.nix');
  writeFileSync(config, `{ lib, ... }: {
  imports = [ ${join(FIXTURES, 'grub-device/configuration.nix')} ];
  boot.loader.grub = { device = lib.mkForce "nodev"; efiSupport = true; efiInstallAsRemovable = true; };
  boot.loader.efi.canTouchEfiVariables = true;
}
`);
  const system = run('nix-instantiate', [
    '--eval', '--expr', `(import ${join(EXAMPLE_NIXPKGS, 'nixos/lib/eval-config.nix')} { modules = [ ${config} ]; }).config.system.build.toplevel.drvPath`,
  ]);
  assert.notEqual(system.status, 0);
  assert.match(system.stderr, /Failed assertions:\n\s*- If you wish to to use boot\.loader\.grub\.efiInstallAsRemovable, then turn off boot\.loader\.efi\.canTouchEfiVariables/);
  const images = build(['-c', config], ['raw-efi'], 'removable-grub');
  assert.match(images.get('raw-efi')!, /nixos\.img$/);
});
