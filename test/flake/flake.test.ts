/**
 * The flake, built by real Nix against the stand-in nixpkgs (a flake input, with its
 * Debian packages inside): the CLI as a package (`nix run`), nixosGenerate's images (both
 * of nixos-generators' call forms) equal to the CLI's bytes, nixosModules.all-formats'
 * config.formats, a custom format, nixos-generators' README example, and a rebuild that
 * gives the same output (Nix 2.8's `--rebuild`, what later releases call `--check`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS, QUICK_ISO_SQUASHFS, REPO } from '../helpers/example.js';
import { run, runOk, tempDir } from '../helpers/run.js';

const work = tempDir('flake');
after(() => work.remove());
const NIX = ['--extra-experimental-features', 'nix-command flakes'];
const nixpkgs = join(work.path, 'nixpkgs');
// A host name of this run: its images exist nowhere yet, so the remote builder must build them.
const REMOTE_HOST = `remote-${Date.now().toString(36)}`;
const flake = join(work.path, 'user');
// The unit cache of the image derivations: shown to the sandbox, shared by the build users.
const CACHE_DIR = join(work.path, 'unit-cache');

/** `nix <args>` in the user's flake, the stand-in as its nixpkgs and this repository as nixos-generate. */
function nix(args: readonly string[], cwd = flake): ReturnType<typeof run> {
  return run('nix', [...NIX, ...args], { cwd });
}

// Pure evaluation reads only the flake's own files: the example configuration is copied in.
const configuration = `{ lib, ... }: {
  imports = [ ./example-configuration.nix ];
  networking.hostName = "flake-host";
}
`;

before(() => {
  // The stand-in with its Debian packages inside, as a flake input is copied whole.
  cpSync(EXAMPLE_NIXPKGS, nixpkgs, { recursive: true });
  cpSync(join(EXAMPLE_DIR, 'debs'), join(nixpkgs, 'debs'), { recursive: true, filter: (src) => !src.includes('.apt-arm64') });
  mkdirSync(flake);
  writeFileSync(join(flake, 'configuration.nix'), configuration);
  cpSync(join(EXAMPLE_DIR, 'configuration.nix'), join(flake, 'example-configuration.nix'));
  writeFileSync(join(flake, 'flake.nix'), `{
  inputs.nixpkgs.url = "path:${nixpkgs}";
  inputs.nixos-generate = { url = "git+file://${REPO}"; inputs.nixpkgs.follows = "nixpkgs"; };
  outputs = { self, nixpkgs, nixos-generate }: {
    packages.x86_64-linux = {
      # nixos-generators' two forms: system, or pkgs.
      qcow = nixos-generate.nixosGenerate { system = "x86_64-linux"; modules = [ ./configuration.nix ]; format = "qcow-efi"; };
      raw = nixos-generate.nixosGenerate { pkgs = nixpkgs.legacyPackages.x86_64-linux; modules = [ ./configuration.nix ]; format = "raw"; };
      # Built on the "remote" builder only (another host name: nothing of it is built here yet).
      remote-qcow = nixos-generate.nixosGenerate { system = "x86_64-linux"; modules = [ ./configuration.nix { networking.hostName = nixpkgs.lib.mkForce "${REMOTE_HOST}"; } ]; format = "qcow-efi"; };
      remote-raw = nixos-generate.nixosGenerate { system = "x86_64-linux"; modules = [ ./configuration.nix { networking.hostName = nixpkgs.lib.mkForce "${REMOTE_HOST}"; } ]; format = "raw-efi"; };
      # With the unit cache (docs/flake.md), at a quick zstd level.
      cached = nixos-generate.nixosGenerate { system = "x86_64-linux"; modules = [ ./configuration.nix { nixos-generate.cacheDirectory = "${CACHE_DIR}"; ${QUICK_ISO_SQUASHFS} } ]; format = "iso"; };
      # A format of one's own, on an existing layout.
      custom = nixos-generate.nixosGenerate {
        system = "x86_64-linux";
        modules = [ ./configuration.nix ];
        customFormats.my-disk = { lib, ... }: {
          imports = [ nixos-generate.nixosModules.raw-efi ];
          nixos-generate.format = lib.mkForce "my-disk";
          nixos-generate.output.fileName = lib.mkForce "my-disk.img";
        };
        format = "my-disk";
      };
    };
    nixosConfigurations.host = nixpkgs.lib.nixosSystem {
      modules = [
        ./configuration.nix
        nixos-generate.nixosModules.all-formats
        { nixpkgs.hostPlatform = "x86_64-linux"; formatConfigs.qcow-efi = { networking.hostName = nixpkgs.lib.mkForce "all-formats-host"; }; }
      ];
    };
  };
}
`);
});

test('nix run and nix profile install of the flake give the CLI as a Nix package', () => {
  const result = run('nix', [...NIX, 'run', '--no-write-lock-file', '--override-input', 'nixpkgs', `path:${nixpkgs}`, `git+file://${REPO}`, '--', '--list']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^amazon\n(.*\n)*qcow-efi\n(.*\n)*vmware\n$/);
  assert.equal(result.stdout, runOk('node', [CLI, '--list']).stdout);
  const profile = join(work.path, 'profile');
  const installed = run('nix', [...NIX, 'profile', 'install', '--profile', profile, '--no-write-lock-file', '--override-input', 'nixpkgs', `path:${nixpkgs}`, `git+file://${REPO}`]);
  assert.equal(installed.status, 0, installed.stderr);
  assert.equal(runOk(join(profile, 'bin/nixos-generate'), ['--list']).stdout, result.stdout);
});

test('nixosGenerate builds qcow-efi (system form) and raw (pkgs form) with the CLI\'s bytes, and the Hydra product line', () => {
  for (const [attr, format, file] of [['qcow', 'qcow-efi', 'nixos.qcow2'], ['raw', 'raw', 'nixos.img']] as const) {
    const link = join(work.path, `result-${attr}`);
    const built = nix(['build', '--no-write-lock-file', '-o', link, `.#${attr}`]);
    assert.equal(built.status, 0, built.stderr);
    const out = readlinkSync(link);
    assert.equal(readFileSync(join(out, 'nix-support/hydra-build-products'), 'utf8'), `file ${format} ${out}/${file}\n`);
    const cli = join(work.path, `cli-${attr}`);
    runOk('node', [CLI, '-f', format, '-c', join(flake, 'configuration.nix'), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', cli]);
    assert.equal(readFileSync(join(out, 'SHA256SUMS'), 'utf8'), readFileSync(join(cli, 'SHA256SUMS'), 'utf8'), `${format}: the derivation's image is the CLI's`);
    runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
  }
});

test('the image derivation is deterministic: Nix rebuilds it and finds the same output', () => {
  const result = nix(['build', '--no-write-lock-file', '--no-link', '--rebuild', '.#qcow']);
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /may not be deterministic|differs/);
});

test('with nixos-generate.cacheDirectory in extra-sandbox-paths, the iso derivation fills the cache and a rebuild places every store path from it, with the same output', () => {
  mkdirSync(CACHE_DIR);
  runOk('chgrp', ['nixbld', CACHE_DIR]);
  chmodSync(CACHE_DIR, 0o2770);
  const options = ['--no-write-lock-file', '--no-link', '-L', '--option', 'extra-sandbox-paths', CACHE_DIR, '.#cached'];
  const first = nix(['build', ...options]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /cache: 0 of [1-9][0-9]* store paths placed whole/);
  const again = nix(['build', '--rebuild', ...options]);
  assert.equal(again.status, 0, again.stderr);
  const placed = /cache: ([0-9]+) of ([0-9]+) store paths placed whole/.exec(again.stderr);
  assert.ok(placed !== null && placed[1] === placed[2], again.stderr);
  assert.doesNotMatch(again.stderr, /may not be deterministic|differs|warning: cannot write/);
});

test('nixosModules.all-formats: config.formats.qcow-efi of a NixOS configuration, with its formatConfigs', () => {
  const link = join(work.path, 'result-all-formats');
  const built = nix(['build', '--no-write-lock-file', '-o', link, '.#nixosConfigurations.host.config.formats.qcow-efi']);
  assert.equal(built.status, 0, built.stderr);
  const image = join(readlinkSync(link), 'nixos.qcow2');
  assert.ok(existsSync(image));
  runOk('qemu-img', ['check', image]);
  const plan = JSON.parse(readFileSync(nix(['eval', '--no-write-lock-file', '--raw', '.#nixosConfigurations.host.config.formats.qcow-efi.plan']).stdout.trim(), 'utf8'));
  assert.match(plan.toplevel, /-nixos-system-all-formats-host-/, 'formatConfigs.qcow-efi applies');
});

test('customFormats: a format of one\'s own on raw-efi\'s layout', () => {
  const link = join(work.path, 'result-custom');
  const built = nix(['build', '--no-write-lock-file', '-o', link, '.#custom']);
  assert.equal(built.status, 0, built.stderr);
  assert.equal(readFileSync(join(readlinkSync(link), 'nix-support/hydra-build-products'), 'utf8'), `file my-disk ${readlinkSync(link)}/my-disk.img\n`);
  runOk('sgdisk', ['-v', join(readlinkSync(link), 'my-disk.img')]);
});

test('nixos-generators\' README flake example evaluates with only its input URLs changed', () => {
  const readme = join(work.path, 'readme');
  mkdirSync(readme);
  // The example as nixos-generators' README has it, the URLs pointing here.
  writeFileSync(join(readme, 'flake.nix'), `{
  inputs = {
    nixpkgs.url = "path:${nixpkgs}";
    nixos-generators = {
      url = "git+file://${REPO}";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };
  outputs = { self, nixpkgs, nixos-generators, ... }: {
    packages.x86_64-linux = {
      vmware = nixos-generators.nixosGenerate {
        system = "x86_64-linux";
        modules = [
          # you can include your own nixos configuration here, i.e.
          # ./configuration.nix
        ];
        format = "vmware";
      };
      vbox = nixos-generators.nixosGenerate {
        system = "x86_64-linux";
        format = "virtualbox";
      };
    };
  };
}
`);
  for (const attr of ['vmware', 'vbox']) {
    const result = nix(['eval', '--no-write-lock-file', '--raw', `.#packages.x86_64-linux.${attr}.drvPath`], readme);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^\/nix\/store\/[0-9a-z]{32}-nixos-image-(vmware|virtualbox)-.*\.drv$/);
  }
  rmSync(readme, { recursive: true, force: true });
});

/** An SSH server on the loopback address whose root runs `nix-daemon --stdio` on a second store. */
function startBuilder(): { spec: string; store: string; sshOpts: string; stop: () => void } {
  const dir = join(work.path, 'builder');
  const store = join(dir, 'store');
  mkdirSync(dir);
  mkdirSync('/run/sshd', { recursive: true });
  runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  cpSync(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  const port = 20000 + (process.pid % 10000);
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'StrictModes no', `PidFile ${join(dir, 'sshd.pid')}`,
    'SetEnv PATH=/usr/bin:/bin:/usr/sbin:/sbin "NIX_CONFIG=substituters ="', '',
  ].join('\n'));
  runOk('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
  return {
    spec: `ssh-ng://root@127.0.0.1?remote-store=local%3Froot%3D${store} x86_64-linux ${join(dir, 'client_key')} 2`,
    store,
    sshOpts: `-p ${port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null`,
    stop: () => {
      const pid = Number(readFileSync(join(dir, 'sshd.pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
    },
  };
}

test('distributed through Nix itself: with --max-jobs 0 both image derivations are built by an ssh-ng builder with its own store, and come back', () => {
  const builder = startBuilder();
  try {
    const links = join(work.path, 'result-remote');
    const result = run('nix', [...NIX, 'build', '--no-write-lock-file', '--max-jobs', '0', '--builders', builder.spec, '-o', links, '.#remote-qcow', '.#remote-raw'],
      { cwd: flake, env: { ...process.env, NIX_SSHOPTS: builder.sshOpts } });
    assert.equal(result.status, 0, result.stderr);
    for (const [link, file] of [[links, 'nixos.qcow2'], [`${links}-1`, 'nixos.img']] as const) {
      const out = readlinkSync(link);
      assert.match(out, /-nixos-image-(qcow-efi|raw-efi)-/);
      assert.ok(existsSync(join(out, file)), `${out}/${file} came back`);
      assert.ok(existsSync(join(builder.store, out)), `${out} was built in the builder's store`);
      assert.match(result.stderr, new RegExp(`building '/nix/store/[0-9a-z]{32}-nixos-image-${out.includes('qcow') ? 'qcow-efi' : 'raw-efi'}-[^']*\\.drv' on 'ssh-ng://root@127\\.0\\.0\\.1`));
      runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
    }
  } finally {
    builder.stop();
  }
});
