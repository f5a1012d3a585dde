/** The CLI contract: --help, --list, one path per image on stdout (--json: test/cli/json-output.test.ts), --run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAGS } from '../../src/cli/options.js';
import { CLI, exampleToplevel } from '../helpers/example.js';
import { MARKER } from '../helpers/qemu.js';
import { runOk, tempDir } from '../helpers/run.js';

test('--list prints one format name per line', () => {
  assert.equal(runOk('node', [CLI, '--list']).stdout, [
    'amazon', 'azure', 'cloudstack', 'do', 'docker', 'gce', 'hyperv', 'install-iso', 'install-iso-hyperv', 'iso', 'kexec', 'kexec-bundle', 'kubevirt', 'linode', 'lxc',
    'lxc-metadata', 'openstack', 'proxmox', 'proxmox-lxc', 'qcow', 'qcow-efi', 'raw', 'raw-efi', 'sd-aarch64', 'sd-aarch64-installer', 'sd-x86_64', 'vagrant-virtualbox', 'virtualbox', 'vm', 'vm-bootloader', 'vm-nogui', 'vmware',
  ].map((f) => `${f}\n`).join(''));
});

test('--help lists every nixos-generators flag and the new ones', () => {
  const help = runOk('node', [CLI, '--help']).stdout;
  for (const flag of ['-c, --configuration', '--flake', '-f, --format', '--format-path', '--list', '--run', '--show-trace',
    '--system', '-o, --out-link', '--cores', '--option NAME VALUE', '--special-arg NAME VALUE', '-I KEY=VALUE', '--disk-size',
    '--help', '--toplevel', '--bootloader', '--json']) {
    assert.ok(help.includes(flag), flag);
  }
  assert.equal(FLAGS.length, help.split('\n').filter((l) => l.startsWith('* ')).length);
});

test('$(nixos-generate ...) captures the image path: stdout holds only paths', () => {
  const tmp = tempDir('stdout');
  try {
    const result = runOk('node', [CLI, '--toplevel', exampleToplevel('stdout-host'), '-f', 'qcow-efi', '-o', join(tmp.path, 'out')]);
    assert.equal(result.stdout, `${join(tmp.path, 'out', 'nixos.qcow2')}\n`);
    assert.match(result.stderr, /nixos-generate: building qcow-efi/);
    // The summary is the last line on stderr; SHA256SUMS is beside the image.
    assert.match(result.stderr, new RegExp(`\\nnixos-generate: built qcow-efi in [0-9.]+ s: ${join(tmp.path, 'out', 'nixos.qcow2')} \\([0-9.]+ MiB\\)\\n$`));
    assert.equal(readFileSync(join(tmp.path, 'out', 'SHA256SUMS'), 'utf8'), runOk('sha256sum', ['nixos.qcow2'], { cwd: join(tmp.path, 'out') }).stdout);
  } finally {
    tmp.remove();
  }
});

test('--run boots the image in QEMU with the serial console on the terminal, with the arguments after -- passed to QEMU', () => {
  const tmp = tempDir('run');
  try {
    // A file character device: QEMU creates its file when it starts.
    const probe = join(tmp.path, 'probe');
    const result = runOk('node', [CLI, '--toplevel', exampleToplevel('run-host'), '-f', 'raw-efi', '--run', '-o', join(tmp.path, 'out'), '--', '-chardev', `file,id=probe,path=${probe}`]);
    assert.ok(existsSync(probe), 'QEMU got the arguments after "--"');
    const lines = result.stdout.replace(/\r/g, '').split('\n');
    assert.equal(lines[0], join(tmp.path, 'out', 'nixos.img'));
    const marker = MARKER.exec(result.stdout);
    assert.ok(marker !== null, result.stdout.slice(-2000));
    assert.equal(marker[1], 'run-host');
  } finally {
    tmp.remove();
  }
});
