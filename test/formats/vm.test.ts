/**
 * The vm formats end to end: vm, vm-nogui and vm-bootloader from configurations evaluated
 * with the stand-in's virtualisation/qemu-vm.nix, their runners started as users start
 * them (software emulation), the example system's marker read from the serial console:
 * the store over 9p, the disk made on first run and kept for the next, QEMU_KERNEL_PARAMS
 * on the guest's command line, a shared directory, GRUB by BIOS and by UEFI from the
 * written disk. The empty disk is checked by e2fsck and the runner's bytes for determinism.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, EXAMPLE_NIXPKGS, exampleConfiguration } from '../helpers/example.js';
import { MARKER } from '../helpers/qemu.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { expectedKvmNotice, kvmNoticeMatches } from '../helpers/kvm.js';

const GUEST = 'vm-guest';
const work = tempDir('vm');
after(() => work.remove());

function configuration(name: string, body: string): string {
  return exampleConfiguration(work.path, name, GUEST, body);
}

function build(formats: string, config: string, out: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, cwd?: string): ReturnType<typeof run> {
  return run('node', [CLI, '-f', formats, '-c', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, out), ...extra], { env, ...(cwd === undefined ? {} : { cwd }) });
}

/** Runs a runner in `cwd` (where its disk lands) and returns its console; the example system powers off. */
function start(runner: string, cwd: string, env: NodeJS.ProcessEnv = {}): { status: number; console: string; stderr: string } {
  const result = run('timeout', ['300', runner], { cwd, env: { ...process.env, ...env } });
  return { status: result.status, console: result.stdout.replace(/\r/g, ''), stderr: result.stderr };
}

interface Marker { host: string; esp: string; nixdb: string; store: string; boots: string; tag: string | undefined }
function marker(console: string): Marker {
  const m = MARKER.exec(console);
  assert.ok(m !== null, `no marker in:\n${console.slice(-3000)}`);
  const line = console.slice(m.index).split('\n')[0]!;
  return {
    host: m[1]!, esp: m[2]!, nixdb: m[4]!, store: m[5]!,
    boots: /\bboots=(\S+)/.exec(line)?.[1] ?? 'none',
    tag: /\btag=(\S+)/.exec(line)?.[1],
  };
}

/** vm's graphical console stays headless: serial on stdio, and the serial console preferred. */
const HEADLESS = { QEMU_OPTS: '-display none -serial stdio -monitor none' };

const sharedConfig = configuration('shared', `
  virtualisation.sharedDirectories.data = { source = "$VM_TEST_DATA"; target = "/mnt/data"; };
  boot.postBootCommands = ''
    echo "SHARED-FILE: $(cat /mnt/data/hello 2>&1)"
  '';`);
const efiConfig = configuration('efi', 'virtualisation.useEFIBoot = true;');

let runners: { vm: string; nogui: string; bootloader: string } = { vm: '', nogui: '', bootloader: '' };
before(() => {
  const result = build('vm,vm-nogui,vm-bootloader', sharedConfig, 'out');
  assert.equal(result.status, 0, result.stderr);
  const [vm, nogui, bootloader] = result.stdout.trim().split('\n') as [string, string, string];
  runners = { vm, nogui, bootloader };
});

test('the output is nixos-generators\': the printed runner bin/run-<host>-vm, executable, and system -> the toplevel', () => {
  for (const [format, runner] of [['vm', runners.vm], ['vm-nogui', runners.nogui], ['vm-bootloader', runners.bootloader]] as const) {
    assert.equal(runner, join(work.path, 'out', format, 'bin', `run-${GUEST}-vm`));
    assert.equal(statSync(runner).mode & 0o777, 0o755);
    const toplevel = readlinkSync(join(work.path, 'out', format, 'system'));
    assert.match(toplevel, /^\/nix\/store\/[0-9a-z]{32}-nixos-system-vm-guest-/);
    assert.ok(existsSync(join(toplevel, 'init')), format);
    assert.match(readFileSync(runner, 'utf8'), /^#!\/bin\/sh\n/);
  }
  // sh -n: the runner parses as a POSIX script (dash is Debian's /bin/sh).
  runOk('dash', ['-n', runners.vm]);
  runOk('dash', ['-n', runners.bootloader]);
});

test('vm-nogui boots with the host store over 9p, the shared directory mounted, QEMU_KERNEL_PARAMS on the command line and regInfo passed', () => {
  const cwd = join(work.path, 'nogui-run');
  mkdirSync(cwd);
  const data = join(work.path, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'hello'), 'from-the-host\n');
  const first = start(runners.nogui, cwd, { QEMU_KERNEL_PARAMS: 'example.tag=first', VM_TEST_DATA: data });
  const m = marker(first.console);
  assert.equal(m.host, GUEST);
  assert.equal(m.store, 'overlay+9p');
  assert.equal(m.tag, 'first');
  assert.equal(m.nixdb, 'reginfo');
  assert.equal(m.boots, '1');
  assert.match(first.console, /SHARED-FILE: from-the-host/);
  // KVM where it runs the guest; otherwise software emulation, saying why (missing, or a vCPU it cannot start).
  assert.ok(kvmNoticeMatches(first.stderr, 'x86_64-linux'), `expected ${String(expectedKvmNotice('x86_64-linux') ?? 'no notice')} in: ${first.stderr}`);
  // The disk was made on first run in the caller's directory: a qcow2 of an ext4 labelled nixos.
  assert.match(first.console, /Disk image does not exist, creating the virtualisation disk image/);
  const disk = join(cwd, `${GUEST}.qcow2`);
  assert.equal(JSON.parse(runOk('qemu-img', ['info', '--output=json', disk]).stdout)['virtual-size'], 2048 * 1024 * 1024);

  // A second start keeps the disk: the root filesystem remembers the first boot.
  const second = start(runners.nogui, cwd, { VM_TEST_DATA: data });
  const again = marker(second.console);
  assert.equal(again.boots, '2');
  assert.equal(again.tag, undefined);
  assert.doesNotMatch(second.console, /creating the virtualisation disk image/);
});

test('vm starts headless (QEMU_OPTS) and boots; NIX_DISK_IMAGE names its disk', () => {
  const cwd = join(work.path, 'vm-run');
  mkdirSync(cwd);
  const result = start(runners.vm, cwd, { ...HEADLESS, QEMU_KERNEL_PARAMS: 'console=ttyS0 example.tag=graphical', NIX_DISK_IMAGE: 'elsewhere.qcow2', VM_TEST_DATA: cwd });
  const m = marker(result.console);
  assert.equal(m.host, GUEST);
  assert.equal(m.store, 'overlay+9p');
  assert.equal(m.tag, 'graphical');
  assert.ok(existsSync(join(cwd, 'elsewhere.qcow2')));
  assert.ok(!existsSync(join(cwd, `${GUEST}.qcow2`)));
});

test('vm-bootloader boots GRUB by BIOS from its disk through an overlay, which a second start reuses', () => {
  const cwd = join(work.path, 'bootloader-run');
  mkdirSync(cwd);
  const image = join(work.path, 'out', 'vm-bootloader', 'nixos.qcow2');
  const before = readFileSync(image);
  const first = start(runners.bootloader, cwd, { ...HEADLESS, VM_TEST_DATA: cwd });
  const m = marker(first.console);
  assert.equal(m.host, GUEST);
  assert.equal(m.store, 'root');
  assert.equal(m.nixdb, 'ok');
  assert.equal(m.boots, '1');
  assert.match(first.console, /GNU GRUB|Booting `NixOS/);
  const overlay = JSON.parse(runOk('qemu-img', ['info', '--output=json', join(cwd, `${GUEST}.qcow2`)]).stdout);
  assert.equal(overlay['backing-filename'], image);
  assert.equal(marker(start(runners.bootloader, cwd, { ...HEADLESS, VM_TEST_DATA: cwd }).console).boots, '2');
  assert.ok(readFileSync(image).equals(before), 'the built image is unchanged');
  runOk('qemu-img', ['check', image]);
});

test('vm-bootloader with useEFIBoot boots GRUB by UEFI from a GPT disk with an ESP, keeping the EFI variables per VM', () => {
  const result = build('vm-bootloader', efiConfig, 'efi');
  assert.equal(result.status, 0, result.stderr);
  const cwd = join(work.path, 'efi-run');
  mkdirSync(cwd);
  const m = marker(start(result.stdout.trim(), cwd, HEADLESS).console);
  assert.equal(m.host, GUEST);
  assert.equal(m.esp, 'ok');
  assert.equal(m.store, 'root');
  assert.ok(existsSync(join(cwd, `${GUEST}-efi-vars.fd`)));
  const raw = join(work.path, 'efi.raw');
  runOk('qemu-img', ['convert', '-O', 'raw', join(work.path, 'efi', 'nixos.qcow2'), raw]);
  assert.match(runOk('sgdisk', ['-p', raw]).stdout, /\bEF00\b/);
});

test('the empty disk is an ext4 labelled nixos that e2fsck passes; the runner and the disk are the same bytes on every build, wherever the output goes', () => {
  const plain = configuration('plain', '');
  const one = build('vm', plain, 'det-1');
  const two = build('vm', plain, 'det-2');
  assert.equal(one.status, 0, one.stderr);
  assert.equal(two.status, 0, two.stderr);
  for (const file of ['bin/run-vm-guest-vm', 'empty-disk.qcow2', 'SHA256SUMS']) {
    assert.ok(readFileSync(join(work.path, 'det-1', file)).equals(readFileSync(join(work.path, 'det-2', file))), file);
  }
  const raw = join(work.path, 'empty.raw');
  runOk('qemu-img', ['convert', '-O', 'raw', join(work.path, 'det-1', 'empty-disk.qcow2'), raw]);
  runOk('e2fsck', ['-fn', raw]);
  assert.equal(runOk('blkid', ['-o', 'value', '-s', 'LABEL', raw]).stdout.trim(), 'nixos');
  assert.equal(statSync(raw).size, 2048 * 1024 * 1024);
});

test('--disk-size: auto (where nixos-generators\' vm fails its assertion) gives the 2 GiB default; a number sizes the disk', () => {
  const plain = configuration('sized', '');
  const auto = build('vm', plain, 'auto', ['--disk-size', 'auto']);
  assert.equal(auto.status, 0, auto.stderr);
  const sized = build('vm', plain, 'sized', ['--disk-size', '3000']);
  assert.equal(sized.status, 0, sized.stderr);
  const size = (out: string): number => JSON.parse(runOk('qemu-img', ['info', '--output=json', join(work.path, out, 'empty-disk.qcow2')]).stdout)['virtual-size'];
  assert.equal(size('auto'), 2048 * 1024 * 1024);
  assert.equal(size('sized'), 3000 * 1024 * 1024);
});

test('virtualisation settings shape the runner: memory, cores, forwarded ports, network restriction, extra QEMU options', () => {
  const shaped = build('vm', configuration('shaped', `
  virtualisation.memorySize = 1536;
  virtualisation.cores = 2;
  virtualisation.restrictNetwork = true;
  virtualisation.forwardPorts = [ { from = "host"; host.port = 2222; guest.port = 22; } ];
  virtualisation.qemu.options = [ "-device virtio-balloon" ];`), 'shaped');
  assert.equal(shaped.status, 0, shaped.stderr);
  const text = readFileSync(shaped.stdout.trim(), 'utf8');
  assert.match(text, / -m 1536 -smp 2 /);
  assert.match(text, /-netdev user,id=user\.0,hostfwd=tcp::2222-:22,restrict=on,"\$QEMU_NET_OPTS"/);
  assert.match(text, /-device virtio-balloon/);
  // QEMU accepts the line: the VM starts and stops at once (-S: no CPU runs; quit from the monitor).
  const probe = run('timeout', ['60', shaped.stdout.trim(), '-S', '-monitor', 'stdio', '-display', 'none'], { input: 'quit\n', cwd: work.path, env: { ...process.env, VM_TEST_DATA: work.path } });
  assert.equal(probe.status, 0, probe.stderr);
});

test('a setting the runner cannot honour is refused with one line, nothing written; --toplevel is refused', () => {
  const tpm = build('vm', configuration('tpm', 'virtualisation.tpm.enable = true;'), 'tpm');
  assert.equal(tpm.status, 1);
  assert.match(tpm.stderr, /virtualisation\.tpm\.enable = true is not supported by the vm format; the runner does not start swtpm/);
  assert.ok(!existsSync(join(work.path, 'tpm')));
  const toplevel = readlinkSync(join(work.path, 'out', 'vm', 'system'));
  const fromToplevel = run('node', [CLI, '--toplevel', toplevel, '-f', 'vm-nogui', '-o', join(work.path, 'from-toplevel')]);
  assert.equal(fromToplevel.status, 2);
  assert.match(fromToplevel.stderr, /Cannot build vm-nogui from --toplevel: .*qemu-vm\.nix/);
});

test('--run starts the vm-nogui runner in the current directory with the arguments after -- given to QEMU', () => {
  const cwd = join(work.path, 'cli-run');
  mkdirSync(cwd);
  const result = build('vm-nogui', configuration('cli-run', ''), 'cli-run', ['--run', '--', '-no-reboot'], { ...process.env, QEMU_KERNEL_PARAMS: 'example.tag=from-cli' }, cwd);
  assert.equal(result.status, 0, result.stderr);
  const m = marker(result.stdout);
  assert.equal(m.tag, 'from-cli');
  assert.ok(existsSync(join(cwd, `${GUEST}.qcow2`)));
});
