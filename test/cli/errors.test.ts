/**
 * Bad input gets one clear line on stderr (what failed, the value, what to do), a
 * non-zero exit status, and nothing partial at the output path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS, REPO, exampleToplevel, exampleWithPayload } from '../helpers/example.js';
import { run, runInterrupted, runOk, tempDir, type RunResult } from '../helpers/run.js';

function generate(args: string[], env: NodeJS.ProcessEnv = process.env): RunResult {
  return run('node', [CLI, ...args], { env });
}

function errorLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter((l) => l.startsWith('nixos-generate: error:'));
}

/** Exactly one error line, matching `pattern`, with the given status and no stdout. */
function assertOneLine(result: RunResult, status: number, pattern: RegExp): void {
  assert.equal(result.status, status, result.stderr);
  const lines = errorLines(result);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, pattern);
  assert.equal(result.stdout, '');
}

test('an unknown format is a usage error naming it and listing the formats', () => {
  assertOneLine(generate(['-f', 'floppy']), 2, /Unknown format "floppy"; run "nixos-generate --list" to see the formats \(amazon, azure, .*, raw-efi, sd-aarch64, sd-aarch64-installer, sd-x86_64, vagrant-virtualbox, virtualbox, vm, vm-bootloader, vm-nogui, vmware\)/);
});

test('an unknown option is a usage error with a suggestion', () => {
  assertOneLine(generate(['--formt', 'raw-efi']), 2, /Unknown option "--formt"; did you mean --format\?/);
});

test('a missing configuration file is a usage error naming the path', () => {
  assertOneLine(generate(['-c', '/nonexistent/configuration.nix', '-f', 'raw-efi']), 2, /Cannot read the configuration "\/nonexistent\/configuration.nix" \(from -c\): no such file; pass the path/);
  assertOneLine(generate(['-f', 'raw-efi'], { ...process.env, NIXOS_CONFIG: '/nowhere.nix' }), 2, /"\/nowhere.nix" \(from NIXOS_CONFIG\)/);
});

test('a missing format or a bad --disk-size is a usage error', () => {
  assertOneLine(generate(['-c', join(EXAMPLE_DIR, 'configuration.nix')]), 2, /Missing format; use -f NAME; formats: amazon, azure, /);
  assertOneLine(generate(['-f', 'raw-efi', '--disk-size', '12G']), 2, /Invalid --disk-size "12G"; give a whole number of MiB, or "auto"/);
  assertOneLine(generate(['--toplevel', '/tmp', '-c', 'x.nix', '-f', 'raw-efi']), 2, /Options -c and --toplevel cannot be used together/);
  assertOneLine(generate(['--json', '--run', '-f', 'raw-efi']), 2, /Options --json and --run cannot be used together; the serial console of --run goes to stdout/);
  assertOneLine(generate(['-f', 'raw-efi', '--', '-m', '2048']), 2, /Arguments after "--" \(-m 2048\) are for QEMU and need --run/);
});

test('nixpkgs missing from the search path is one line with the fix', () => {
  const env = { ...process.env, NIX_PATH: '' };
  const result = generate(['-c', join(EXAMPLE_DIR, 'configuration.nix'), '-f', 'raw-efi'], env);
  assert.equal(result.status, 1);
  assert.equal(errorLines(result).length, 1);
  assert.match(errorLines(result)[0]!, /Cannot evaluate and build the system: file 'nixpkgs' was not found in the Nix search path.*; pass -I nixpkgs=PATH or set NIX_PATH/);
  assert.match(result.stderr, /command: nix-build .*eval\.nix/);
});

test('an evaluation error is reported with Nix\'s message, the command line and its stderr', () => {
  const tmp = tempDir('eval-error');
  try {
    const config = join(tmp.path, 'configuration.nix');
    writeFileSync(config, '{ ... }: { networking.hostName = undefinedThing; }\n');
    const out = join(tmp.path, 'out');
    const result = generate(['-c', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-f', 'raw-efi', '-o', out]);
    assert.equal(result.status, 1);
    assert.equal(errorLines(result).length, 1);
    assert.match(errorLines(result)[0]!, /Cannot evaluate and build the system: undefined variable 'undefinedThing'/);
    assert.match(result.stderr, /command: nix-build .* --arg configuration .*configuration\.nix/);
    assert.match(result.stderr, /at .*configuration\.nix:1:/);
    assert.equal(existsSync(out), false);
  } finally {
    tmp.remove();
  }
});

test('a disk size too small fails before writing and names the size needed', () => {
  const tmp = tempDir('small-disk');
  try {
    const out = join(tmp.path, 'out');
    const result = generate(['--toplevel', exampleToplevel('small-disk'), '-f', 'raw-efi', '--disk-size', '300', '-o', out]);
    assertOneLine(result, 1, /Cannot build raw-efi in a 300 MiB disk: it needs at least (\d+) MiB; pass --disk-size \1 or more, or --disk-size auto/);
    const needed = Number(/at least (\d+) MiB/.exec(result.stderr)![1]);
    assert.ok(needed > 300 && needed < 500, `${needed} MiB`);
    assert.equal(existsSync(join(out, 'nixos.img')), false);
    const fits = generate(['--toplevel', exampleToplevel('small-disk'), '-f', 'raw-efi', '--disk-size', String(needed), '-o', out]);
    assert.equal(fits.status, 0, fits.stderr);
    const info = JSON.parse(runOk('qemu-img', ['info', '--output=json', join(out, 'nixos.img')]).stdout);
    assert.equal(info['virtual-size'], needed * 1024 * 1024);
  } finally {
    tmp.remove();
  }
});

test('an unreadable store path in the closure is one line naming it, and no image is left', () => {
  const toplevel = exampleWithPayload('unreadable-path', 3, 1);
  const payload = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.split('\n').find((p) => /-payload-3-files-1-mib$/.test(p))!;
  const hidden = join('/nix/store', `.hidden-${basename(payload)}`);
  const tmp = tempDir('unreadable');
  renameSync(payload, hidden);
  try {
    // A disk image and a container tarball (the squashfs writer's own test covers the ISO's store).
    for (const format of ['raw-efi', 'lxc']) {
      const out = join(tmp.path, format);
      const result = generate(['--toplevel', toplevel, '-f', format, '-o', out]);
      assertOneLine(result, 1, new RegExp(`Cannot read "${payload}": ENOENT; check that the store path exists and is readable`));
      assert.deepEqual(existsSync(out) ? readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name) : [], [], format);
    }
  } finally {
    renameSync(hidden, payload);
    tmp.remove();
  }
});

test('a bootspec naming a file outside the closure is refused in one line, and nothing is written', () => {
  const tmp = tempDir('outside-closure');
  try {
    for (const mode of ['shadow', 'symlink', 'stray']) {
      const built = runOk('nix-build', ['--no-out-link', join(REPO, 'test/fixtures/outside-closure-toplevel.nix'), '--argstr', 'mode', mode]).stdout.trim().split('\n');
      const toplevel = built[built.length - 1]!;
      const out = join(tmp.path, mode);
      const result = generate(['--toplevel', toplevel, '-f', 'raw-efi', '-o', out]);
      assertOneLine(result, 1, /Cannot put the kernel of the bootspec of "\/nix\/store\/[^"]+-outside-closure-\w+" into the image: "[^"]+" is not inside the system's closure; an image holds only files of the system's store paths/);
      assert.deepEqual(existsSync(out) ? readdirSync(out) : [], [], mode);
    }
  } finally {
    tmp.remove();
  }
});

test('SIGINT during the write stops the build, exits 130 and leaves nothing at the output path', async () => {
  const toplevel = exampleWithPayload('interrupted', 2000, 400);
  const tmp = tempDir('sigint');
  try {
    const out = join(tmp.path, 'out');
    const { status, stdout, stderr, signalled } = await runInterrupted('node', [CLI, '--toplevel', toplevel, '-f', 'raw-efi', '-o', out], /write nixos\.img/);
    assert.ok(signalled, stderr);
    assert.equal(status, 130, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /nixos-generate: error: Build interrupted by SIGINT; no partial output was left at the output path/);
    assert.deepEqual(existsSync(out) ? readdirSync(out) : [], []);
  } finally {
    tmp.remove();
  }
});
