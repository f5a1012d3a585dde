import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_ENTRY } from '../../../src/fs/fat/dir-entry.js';
import { encodeLfnEntries, LFN_ENTRY, lfnEntryCount, shortNameChecksum } from '../../../src/fs/fat/lfn.js';
import { runOk, tempDir } from '../../helpers/run.js';
import { MTOOLS_ENV } from './fat-tools.js';

const units = (s: string): Uint16Array => {
  const u = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return u;
};

test('long names take 13 UTF-16 units per entry, then a 0x0000 terminator and 0xFFFF padding', () => {
  assert.equal(lfnEntryCount(1), 1);
  assert.equal(lfnEntryCount(13), 1);
  assert.equal(lfnEntryCount(14), 2);
  const out = new Uint8Array(64);
  const written = encodeLfnEntries(units('abcdefghijklmn'), 0x5a, out, 0);
  assert.equal(written, 64);
  const first = LFN_ENTRY.decode(out, 0);
  const second = LFN_ENTRY.decode(out, 32);
  assert.equal(first.order, 0x42, 'the last part comes first, flagged 0x40');
  assert.equal(second.order, 0x01);
  assert.equal(first.attributes, 0x0f);
  assert.equal(first.checksum, 0x5a);
  assert.equal(first.type, 0);
  assert.equal(first.firstClusterLow, 0);
  assert.deepEqual(Array.from(first.name1), [0x6e, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const full = new Uint8Array(32);
  encodeLfnEntries(units('abcdefghijklm'), 0, full, 0);
  assert.deepEqual(Array.from(LFN_ENTRY.decode(full).name3), [0x6c, 0, 0x6d, 0], 'a full entry has no terminator');
});

test('the short-name checksum and long-name entries match what mtools writes', () => {
  const t = tempDir('fat-lfn');
  try {
    const img = join(t.path, 'ref.img');
    runOk('mkfs.fat', ['-C', img, '8192']);
    const names = ['Some_Long_Name.efi', 'exactly thirteen', 'A name with many characters, spanning three entries.conf', 'Ünïcødé файл.txt'];
    for (const name of names) {
      const host = join(t.path, 'src');
      writeFileSync(host, name);
      runOk('mcopy', ['-i', img, host, `::/${name}`], { env: MTOOLS_ENV });
    }
    // mkfs.fat made a FAT16 volume: the root directory follows the reserved sectors and both FATs.
    const fd = openSync(img, 'r');
    const boot = new Uint8Array(512);
    readSync(fd, boot, 0, 512, 0);
    const view = new DataView(boot.buffer);
    const rootAt = (view.getUint16(14, true) + boot[16]! * view.getUint16(22, true)) * 512;
    const root = new Uint8Array(512 * 32);
    readSync(fd, root, 0, root.length, rootAt);
    closeSync(fd);
    let at = 0;
    for (const name of names) {
      const count = lfnEntryCount(name.length);
      const short = DIR_ENTRY.decode(root, at + count * 32);
      const ours = new Uint8Array(count * 32);
      encodeLfnEntries(units(name), shortNameChecksum(short.name), ours, 0);
      assert.deepEqual(ours, root.subarray(at, at + count * 32), `long-name entries of "${name}"`);
      at += (count + 1) * 32;
    }
  } finally {
    t.remove();
  }
});
