/**
 * The bundled example system (example/): builds its toplevel with Nix and the
 * stand-in nixpkgs, then checks the NixOS contract an image writer relies on.
 * Needs Nix and example/debs (example/build-system runs example/fetch-debs
 * when it can). No QEMU here: booting is tested with the real images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { runOk } from '../helpers/run.js';

// Compiled to dist/test/example/: the repository is three levels up.
const exampleDir = fileURLToPath(new URL('../../../example/', import.meta.url));
const BUILD_TIMEOUT_MS = 20 * 60_000;

const storePath = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[^/]+$/;

function buildToplevel(hostName: string): string {
  const result = runOk(`${exampleDir}build-system`, [hostName]);
  const lines = result.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `build-system must print only the toplevel path, got:\n${result.stdout}`);
  return lines[0]!;
}

/** Names of the entries of a newc cpio archive. */
function cpioNames(archive: Uint8Array): string[] {
  const names: string[] = [];
  const text = (from: number, length: number): string => Buffer.from(archive.subarray(from, from + length)).toString('latin1');
  const align = (n: number): number => (n + 3) & ~3;
  let at = 0;
  for (;;) {
    assert.equal(text(at, 6), '070701', `newc magic at offset ${at}`);
    const field = (i: number): number => Number.parseInt(text(at + 6 + i * 8, 8), 16);
    const fileSize = field(6);
    const nameSize = field(11);
    const name = text(at + 110, nameSize - 1);
    if (name === 'TRAILER!!!') return names;
    names.push(name);
    at = align(align(at + 110 + nameSize) + fileSize);
  }
}

function nixEval(expression: string): unknown {
  return JSON.parse(runOk('nix-instantiate', ['--eval', '--strict', '--json', '--expr', expression]).stdout);
}

test('example toplevel has the NixOS shape for a random host name', { timeout: BUILD_TIMEOUT_MS }, () => {
  const host = `ex-${randomBytes(4).toString('hex')}`;
  const toplevel = buildToplevel(host);
  assert.match(toplevel, storePath);
  assert.match(toplevel, new RegExp(`-nixos-system-${host}-[A-Za-z0-9._-]+$`));

  const bootspec = JSON.parse(readFileSync(`${toplevel}/boot.json`, 'utf8')) as Record<string, Record<string, unknown>>;
  const v1 = bootspec['org.nixos.bootspec.v1'];
  assert.ok(v1, 'boot.json has org.nixos.bootspec.v1');
  assert.deepEqual(Object.keys(v1).sort(), ['init', 'initrd', 'kernel', 'kernelParams', 'label', 'system', 'toplevel']);
  assert.equal(v1['toplevel'], toplevel);
  assert.equal(v1['init'], `${toplevel}/init`);
  assert.equal(v1['system'], 'x86_64-linux');
  assert.equal(typeof v1['label'], 'string');

  const kernelParams = readFileSync(`${toplevel}/kernel-params`, 'utf8');
  assert.ok(!kernelParams.endsWith('\n'));
  assert.deepEqual(v1['kernelParams'], kernelParams.split(' '));
  assert.ok(kernelParams.split(' ').includes('console=ttyS0'));
  assert.ok(!/(^| )init=/.test(kernelParams), 'kernel-params carries no init=');

  assert.equal(readlinkSync(`${toplevel}/kernel`), v1['kernel']);
  assert.equal(readlinkSync(`${toplevel}/initrd`), v1['initrd']);
  assert.match(String(v1['kernel']), /\/bzImage$/);
  assert.equal(readFileSync(`${toplevel}/system`, 'utf8'), 'x86_64-linux');
  assert.ok(readFileSync(`${toplevel}/nixos-version`, 'utf8').length > 0);
  assert.ok(statSync(`${toplevel}/sw/bin/sh`).isFile());
  assert.ok(existsSync(`${toplevel}/bin/switch-to-configuration`));
  assert.ok(statSync(`${toplevel}/systemd/lib/systemd/boot/efi/systemd-bootx64.efi`).size > 0);
  assert.equal(readFileSync(`${toplevel}/etc/hostname`, 'utf8'), `${host}\n`);

  const init = readFileSync(`${toplevel}/init`, 'utf8');
  assert.ok((statSync(`${toplevel}/init`).mode & 0o111) !== 0, 'init is executable');
  assert.match(init, /^#!\/nix\/store\/[^\n]+\/bin\/sh\n/);
  assert.ok(init.includes(`EXAMPLE-SYSTEM-BOOTED host=${host} `));
  assert.ok(init.includes(toplevel), 'init compares the system profile with its own toplevel');
  assert.ok(init.includes('poweroff -f'));

  // The initrd: gzip'd newc cpio with busybox, the stage 1 init and modules.
  const initrd = readFileSync(realpathSync(`${toplevel}/initrd`));
  assert.deepEqual([initrd[0], initrd[1]], [0x1f, 0x8b]);
  const names = cpioNames(gunzipSync(initrd));
  for (const name of ['init', 'bin/busybox', 'bin/sh', 'bin/modprobe', 'etc/initrd.conf', 'dev/console']) {
    assert.ok(names.includes(name), `initrd holds ${name}`);
  }
  // modprobe finds modules by name, alias and modalias through depmod's indexes.
  for (const index of ['modules.dep', 'modules.alias']) {
    assert.ok(names.some((n) => n.startsWith('lib/modules/') && n.endsWith(`/${index}`)), `initrd holds ${index}`);
  }
  for (const module of ['virtio_blk.ko', 'virtio_pci.ko', 'ahci.ko', 'sd_mod.ko', 'ext4.ko', 'jbd2.ko', 'vfat.ko', 'nls_cp437.ko', 'isofs.ko', 'squashfs.ko', 'overlay.ko', 'loop.ko']) {
    assert.ok(names.some((n) => n.startsWith('lib/modules/') && n.endsWith(`/${module}`)), `initrd holds ${module}`);
  }

  // The closure holds the boot loaders, as a NixOS system's closure does.
  const closure = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.split('\n').filter((l) => l !== '');
  assert.ok(closure.includes(toplevel));
  const withFile = (file: string): string | undefined => closure.find((p) => existsSync(`${p}/${file}`));
  const grubPc = withFile('lib/grub/i386-pc/boot.img');
  const grubEfi = withFile('lib/grub/x86_64-efi/kernel.img');
  assert.ok(grubPc !== undefined, 'closure contains GRUB for i386-pc');
  assert.ok(grubEfi !== undefined, 'closure contains GRUB for x86_64-efi');
  for (const grub of [grubPc, grubEfi]) {
    assert.ok(existsSync(`${grub}/bin/grub-mkimage`));
  }
  for (const file of ['kernel.img', 'moddep.lst', 'part_gpt.mod', 'ext2.mod']) {
    assert.ok(existsSync(`${grubPc}/lib/grub/i386-pc/${file}`), `i386-pc ${file}`);
    assert.ok(existsSync(`${grubEfi}/lib/grub/x86_64-efi/${file}`), `x86_64-efi ${file}`);
  }
  assert.ok(closure.includes(realpathSync(`${toplevel}/systemd`)), 'closure contains systemd');
});

test('two host names give two toplevels differing in name and init', { timeout: BUILD_TIMEOUT_MS }, () => {
  const a = buildToplevel('example-a');
  const b = buildToplevel('example-b');
  assert.notEqual(a, b);
  assert.ok(readFileSync(`${a}/init`, 'utf8').includes('host=example-a '));
  assert.ok(readFileSync(`${b}/init`, 'utf8').includes('host=example-b '));
  assert.equal(readlinkSync(`${a}/kernel`), readlinkSync(`${b}/kernel`));
});

test('stand-in module system: priorities, mkIf, merging and NixOS defaults', { timeout: BUILD_TIMEOUT_MS }, () => {
  const evalConfig = JSON.stringify(`${exampleDir}nixpkgs/nixos/lib/eval-config.nix`);
  const configuration = JSON.stringify(`${exampleDir}configuration.nix`);
  const result = nixEval(`
    let
      base = import ${evalConfig} { modules = [ (/. + ${configuration}) ]; };
      ext = base.extendModules { modules = [ ({ lib, config, ... }: {
        options.services.demo.enable = lib.mkEnableOption "a demonstration service";
        config.networking.hostName = lib.mkForce "forced";
        config.boot.loader.systemd-boot.enable = true;
        config.boot.kernelParams = lib.mkMerge [ [ "a=1" ] (lib.mkIf config.boot.loader.systemd-boot.enable [ "b=2" ]) ];
        config.services.demo = lib.mkIf config.boot.loader.systemd-boot.enable { enable = true; };
        config.fileSystems."/".fsType = "ext4";
      }) ]; };
    in {
      host = base.config.networking.hostName;
      grub = base.config.boot.loader.grub.enable;
      timeout = base.config.boot.loader.timeout;
      extHost = ext.config.networking.hostName;
      extGrub = ext.config.boot.loader.grub.enable;
      extParams = ext.config.boot.kernelParams;
      demo = ext.config.services.demo.enable;
      rootFs = ext.config.fileSystems."/".fsType;
      system = ext.pkgs.stdenv.hostPlatform.system;
    }`);
  assert.deepEqual(result, {
    host: 'example',
    grub: true,
    timeout: 5,
    extHost: 'forced',
    extGrub: false,
    extParams: ['loglevel=4', 'a=1', 'b=2', 'console=ttyS0'], // the example's console is mkAfter
    demo: true,
    rootFs: 'ext4',
    system: 'x86_64-linux',
  });
});

test('stand-in module system: conflicting definitions name the option', { timeout: BUILD_TIMEOUT_MS }, () => {
  const lib = JSON.stringify(`${exampleDir}nixpkgs/lib`);
  const expression = `
    let lib = import (/. + ${lib});
      port = { options.services.x.port = lib.mkOption { type = lib.types.int; }; };
    in (lib.evalModules { modules = [ port { services.x.port = 1; } { services.x.port = 2; } ]; }).config.services.x.port`;
  const result = runOk('sh', ['-c', 'nix-instantiate --eval --strict --expr "$1" 2>&1; true', 'sh', expression]);
  assert.match(result.stdout, /The option `services\.x\.port' has conflicting definition values/);
});

test('stand-in module system: a definition of an option nobody declares is refused, as NixOS refuses it', { timeout: BUILD_TIMEOUT_MS }, () => {
  const evalConfig = JSON.stringify(`${exampleDir}nixpkgs/nixos/lib/eval-config.nix`);
  const expression = `(import (/. + ${evalConfig}) { system = "x86_64-linux"; modules = [ { boot.loader.grub.package = null; } ]; }).config.system.build.toplevel.drvPath`;
  const result = runOk('sh', ['-c', 'nix-instantiate --eval --strict --expr "$1" 2>&1; true', 'sh', expression]);
  assert.match(result.stdout, /The option `boot\.loader\.grub\.package' does not exist\. Definition values:/);
});
