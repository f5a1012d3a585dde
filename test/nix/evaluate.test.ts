/**
 * The Nix layer against real Nix and the example's eval-config stand-in: the plan the
 * format modules export equals the TypeScript defaults, and every nixos-generate flag
 * reaches Nix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { detectBootloader } from '../../src/formats/detect-bootloader.js';
import { defaultPlan, isDiskFormat } from '../../src/formats/format.js';
import { findDiskFormat, findFormat, formatNames } from '../../src/formats/registry.js';
import { queryClosure } from '../../src/nix/closure.js';
import { buildPlanWithNix, NIX_DIR, type EvaluateRequest } from '../../src/nix/evaluate.js';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS } from '../helpers/example.js';
import { diskPlan } from '../helpers/plans.js';
import { run, runOk, tempDir } from '../helpers/run.js';

const CONFIG = join(EXAMPLE_DIR, 'configuration.nix');

function request(format: string, overrides: Partial<EvaluateRequest> = {}): EvaluateRequest {
  return {
    source: { kind: 'file', path: CONFIG },
    formatModule: join(NIX_DIR, 'formats', findFormat(format).nixModule),
    settings: { searchPath: [`nixpkgs=${EXAMPLE_NIXPKGS}`], options: [], showTrace: false, cores: undefined, system: undefined },
    diskSize: undefined,
    specialArgs: {},
    ...overrides,
  };
}

for (const format of formatNames().filter((name) => isDiskFormat(findFormat(name)))) {
  test(`the ${format} plan from its Nix module equals the TypeScript default for the same system`, async () => {
    const plan = diskPlan(await buildPlanWithNix(request(format)));
    const closure = await queryClosure(plan.toplevel);
    const definition = findDiskFormat(format);
    const expected = defaultPlan(definition, {
      toplevel: plan.toplevel,
      // The configuration's boot.loader.timeout is not in a toplevel; take it from the plan.
      bootloader: detectBootloader(closure, definition.grub, undefined, plan.bootloader.timeout ?? 0),
      diskSize: 'auto',
      names: { label: readFileSync(join(plan.toplevel, 'nixos-version'), 'utf8').trim(), system: 'x86_64-linux' },
    });
    assert.deepEqual(plan, expected);
    assert.match(readFileSync(join(plan.toplevel, 'kernel-params'), 'utf8'), /console=/);
  });
}

test('a configuration that enables systemd-boot gets it in the plan, from the system\'s systemd', async () => {
  const tmp = tempDir('sdboot-config');
  try {
    const config = join(tmp.path, 'configuration.nix');
    writeFileSync(config, `{ ... }: { imports = [ ${CONFIG} ]; boot.loader.systemd-boot.enable = true; boot.loader.timeout = 3; }\n`);
    const plan = diskPlan(await buildPlanWithNix(request('raw-efi', { source: { kind: 'file', path: config } })));
    assert.equal(plan.bootloader.type, 'systemd-boot');
    assert.equal(plan.bootloader.timeout, 3);
    const systemd = runOk('readlink', ['-f', join(plan.toplevel, 'systemd')]).stdout.trim();
    assert.equal(plan.bootloader.type === 'systemd-boot' ? plan.bootloader.efiBinary : '', `${systemd}/lib/systemd/boot/efi/systemd-bootx64.efi`);
  } finally {
    tmp.remove();
  }
});

test('--disk-size and --special-arg reach the configuration', async () => {
  const tmp = tempDir('special-arg');
  try {
    const config = join(tmp.path, 'configuration.nix');
    writeFileSync(config, `{ greeting, ... }: { imports = [ ${CONFIG} ]; networking.hostName = greeting; }\n`);
    const plan = diskPlan(await buildPlanWithNix(request('raw-efi', {
      source: { kind: 'file', path: config },
      diskSize: 2048,
      specialArgs: { greeting: 'hello-from-special-arg' },
    })));
    assert.equal(plan.diskSize, 2048);
    assert.match(plan.toplevel, /-nixos-system-hello-from-special-arg-/);
  } finally {
    tmp.remove();
  }
});

test('-I, --option, --cores, --system and --show-trace are passed to Nix', () => {
  const tmp = tempDir('flags');
  try {
    const config = join(tmp.path, 'configuration.nix');
    writeFileSync(config, '{ ... }: { networking.hostName = throw "deliberate failure"; }\n');
    const result = run('node', [CLI, '-c', config, '-f', 'raw-efi', '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`,
      '--option', 'max-jobs', '1', '--cores', '1', '--system', 'x86_64-linux', '--show-trace']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /deliberate failure/);
    const command = /command: (.*)/.exec(result.stderr)![1]!;
    for (const piece of [`-I nixpkgs=${EXAMPLE_NIXPKGS}`, '--option max-jobs 1', '--cores 1', '--argstr system x86_64-linux', '--show-trace']) {
      assert.ok(command.includes(piece), `${piece} in ${command}`);
    }
    assert.match(result.stderr, /while evaluating/);
    const restricted = run('node', [CLI, '-c', CONFIG, '-f', 'raw-efi', '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '--option', 'restrict-eval', 'true']);
    assert.equal(restricted.status, 1, 'restrict-eval forbids reading the configuration outside the search path');
    assert.match(restricted.stderr, /forbidden in restricted mode/);
  } finally {
    tmp.remove();
  }
});

test('without -c, NIXOS_CONFIG is used, else the bundled configuration.nix', () => {
  const tmp = tempDir('default-config');
  try {
    const env = { ...process.env, NIXOS_CONFIG: CONFIG };
    const viaEnv = runOk('node', [CLI, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-f', 'raw-efi', '-o', join(tmp.path, 'a')], { env });
    assert.match(viaEnv.stderr, /nixos-system-example-/);
    const { NIXOS_CONFIG: _unused, ...withoutConfig } = process.env;
    void _unused;
    const bundled = runOk('node', [CLI, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-f', 'raw-efi', '-o', join(tmp.path, 'b')], { env: withoutConfig });
    assert.match(bundled.stderr, /nixos-system-nixos-/, 'the bundled configuration keeps the default host name');
    assert.equal(bundled.stdout, `${join(tmp.path, 'b', 'nixos.img')}\n`);
  } finally {
    tmp.remove();
  }
});

test('--flake path#attr builds nixosConfigurations.attr through extendModules; attr defaults to the host name', () => {
  const tmp = tempDir('flake');
  try {
    const flake = join(tmp.path, 'flake');
    cpSync(EXAMPLE_DIR, join(flake, 'example'), { recursive: true });
    const system = (name: string): string =>
      `${JSON.stringify(name)} = import ./example/nixpkgs/nixos/lib/eval-config.nix { system = "x86_64-linux"; modules = [ ./example/configuration.nix { networking.hostName = "${name.replace(/[^a-z0-9-]/g, '-')}"; } ]; };`;
    writeFileSync(join(flake, 'flake.nix'), `{
  outputs = { self }: {
    nixosConfigurations = {
      ${system('from-flake')}
      ${system(hostname())}
    };
  };
}
`);
    const named = runOk('node', [CLI, '--flake', `${flake}#from-flake`, '-f', 'qcow-efi', '-o', join(tmp.path, 'named')]);
    assert.equal(named.stdout, `${join(tmp.path, 'named', 'nixos.qcow2')}\n`);
    assert.match(named.stderr, /nixos-system-from-flake-/);
    runOk('qemu-img', ['check', join(tmp.path, 'named', 'nixos.qcow2')]);
    const byHost = runOk('node', [CLI, '--flake', flake, '-f', 'raw-efi', '-o', join(tmp.path, 'host')]);
    assert.match(byHost.stderr, new RegExp(`nixos-system-${hostname().replace(/[^a-z0-9-]/g, '-')}-`));
    const missing = run('node', [CLI, '--flake', `${flake}#nope`, '-f', 'raw-efi']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nixos-generate: error: .*has no nixosConfigurations\.nope/);
  } finally {
    tmp.remove();
  }
});
