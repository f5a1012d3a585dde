/** Helpers shared by the VHD and VHDX tests: qemu-img and vhdiinfo checks. */
import assert from 'node:assert/strict';
import { run, runOk } from '../helpers/run.js';

/** `qemu-img info -f FORMAT --output=json`. */
export function qemuInfo(path: string, format: 'vpc' | 'vhdx'): Record<string, unknown> {
  return JSON.parse(runOk('qemu-img', ['info', '-f', format, '--output=json', path]).stdout) as Record<string, unknown>;
}

/** `qemu-img compare -f raw -F FORMAT`: exit 0 and "Images are identical." */
export function assertSameContent(rawPath: string, path: string, format: 'vpc' | 'vhdx'): void {
  const result = run('qemu-img', ['compare', '-f', 'raw', '-F', format, rawPath, path]);
  assert.equal(result.status, 0, `qemu-img compare exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /Images are identical\./);
}

export interface VhdiInfo {
  readonly format: string;
  readonly diskType: string;
  readonly mediaSize: number;
  readonly bytesPerSector: number;
  readonly identifier: string;
}

/** `vhdiinfo` (libvhdi-utils): exit 0 and the fields it prints. */
export function vhdiinfo(path: string): VhdiInfo {
  const result = run('vhdiinfo', [path]);
  assert.equal(result.status, 0, `vhdiinfo exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  const field = (name: string): string => {
    const m = new RegExp(`^\\s*${name}\\s*:\\s*(.*)$`, 'm').exec(result.stdout);
    assert.ok(m !== null, `vhdiinfo prints "${name}":\n${result.stdout}`);
    return m[1]!.trim();
  };
  const media = /\((\d+) bytes\)/.exec(field('Media size'));
  assert.ok(media !== null, field('Media size'));
  return {
    format: field('Format'),
    diskType: field('Disk type'),
    mediaSize: Number(media[1]),
    bytesPerSector: parseInt(field('Bytes per sector'), 10),
    identifier: field('Identifier'),
  };
}
