/**
 * QEMU boots under software emulation of the BIOS and hybrid layouts and of every
 * container QEMU can open directly; the example system prints its marker line with the
 * host name (esp=ok when an ESP is mounted at /boot).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';

import { CLI, exampleToplevel } from '../helpers/example.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { runOk, tempDir } from '../helpers/run.js';

const HOST = 'boot-test-host';
const work = tempDir('boots');
const images = new Map<string, string>();

const CASES = [
  { format: 'raw', drive: 'raw', firmware: 'bios', what: 'legacy MBR under SeaBIOS', esp: 'none' },
  { format: 'amazon', drive: 'vpc', firmware: 'bios', what: 'legacy+gpt under SeaBIOS, from a dynamic VHD', esp: 'none' },
  { format: 'azure', drive: 'vpc', firmware: 'bios', what: 'legacy MBR under SeaBIOS, from a fixed VHD', esp: 'none' },
  { format: 'qcow', drive: 'qcow2', firmware: 'bios', what: 'hybrid under SeaBIOS', esp: 'ok' },
  { format: 'qcow', drive: 'qcow2', firmware: 'uefi', what: 'hybrid under OVMF', esp: 'ok' },
  { format: 'hyperv', drive: 'vhdx', firmware: 'uefi', what: 'efi under OVMF, from a VHDX', esp: 'ok' },
  { format: 'vmware', drive: 'vmdk', firmware: 'uefi', what: 'efi under OVMF, from a VMDK', esp: 'ok' },
] as const;

before(() => {
  const formats = [...new Set(CASES.map((c) => c.format))];
  const paths = runOk('node', [CLI, '--toplevel', exampleToplevel(HOST), '-f', formats.join(','), '-o', work.path]).stdout.trim().split('\n');
  formats.forEach((format, i) => images.set(format, paths[i]!));
});

for (const c of CASES) {
  test(`${c.format} boots: ${c.what}`, async () => {
    const result = await boot(images.get(c.format)!, c.drive, c.firmware);
    const marker = MARKER.exec(result.console);
    assert.ok(marker !== null, `no marker on the console:\n${result.console.slice(-3000)}`);
    assert.deepEqual(marker.slice(1), [HOST, c.esp, 'ok', 'ok', 'root']);
    assert.match(result.console, /Booting `NixOS'/, 'GRUB (on its serial terminal) booted the entry');
  });
}

process.on('exit', () => work.remove());
