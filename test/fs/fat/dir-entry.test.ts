import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_ENTRY, encodeShortEntry, fatTimestamp } from '../../../src/fs/fat/dir-entry.js';
import { runOk, tempDir } from '../../helpers/run.js';
import { MTOOLS_ENV } from './fat-tools.js';

const utc = (...parts: [number, number, number, number, number, number]): number => Date.UTC(...parts) / 1000;

test('FAT dates and times pack year-1980, month, day and hour, minute, seconds/2', () => {
  assert.deepEqual(fatTimestamp(utc(1980, 0, 1, 0, 0, 0)), { date: 0x0021, time: 0, fine: 0 });
  assert.deepEqual(fatTimestamp(utc(2023, 10, 14, 22, 13, 20)), {
    date: (43 << 9) | (11 << 5) | 14, time: (22 << 11) | (13 << 5) | 10, fine: 0,
  });
  assert.deepEqual(fatTimestamp(utc(2000, 1, 29, 12, 34, 57)), {
    date: (20 << 9) | (2 << 5) | 29, time: (12 << 11) | (34 << 5) | 28, fine: 100,
  });
});

test('times outside 1980..2107 are clamped to the ends of the FAT range', () => {
  const first = { date: 0x0021, time: 0, fine: 0 };
  const last = { date: (127 << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29, fine: 100 };
  assert.deepEqual(fatTimestamp(0), first);
  assert.deepEqual(fatTimestamp(-5), first);
  assert.deepEqual(fatTimestamp(utc(2107, 11, 31, 23, 59, 59)), last);
  assert.deepEqual(fatTimestamp(2 ** 33), last);
});

test('write dates and times match what mtools stores for the same UTC mtime', () => {
  const t = tempDir('fat-time');
  try {
    const img = join(t.path, 'ref.img');
    runOk('mkfs.fat', ['-C', img, '8192']);
    const times = [utc(1980, 0, 1, 0, 0, 0), utc(1999, 11, 31, 23, 59, 58), utc(2000, 1, 29, 12, 34, 56), utc(2038, 0, 19, 3, 14, 8), utc(2099, 5, 30, 6, 7, 8)];
    times.forEach((time, i) => {
      const host = join(t.path, `F${i}`);
      writeFileSync(host, 'x');
      utimesSync(host, time, time);
      runOk('mcopy', ['-m', '-i', img, host, `::/F${i}`], { env: MTOOLS_ENV });
    });
    const fd = openSync(img, 'r');
    const boot = new Uint8Array(512);
    readSync(fd, boot, 0, 512, 0);
    const view = new DataView(boot.buffer);
    const rootAt = (view.getUint16(14, true) + boot[16]! * view.getUint16(22, true)) * 512;
    const root = new Uint8Array(32 * times.length);
    readSync(fd, root, 0, root.length, rootAt);
    closeSync(fd);
    times.forEach((time, i) => {
      const entry = DIR_ENTRY.decode(root, i * 32);
      const ours = fatTimestamp(time);
      assert.equal(entry.writeDate, ours.date, `date of ${new Date(time * 1000).toISOString()}`);
      assert.equal(entry.writeTime, ours.time, `time of ${new Date(time * 1000).toISOString()}`);
    });
  } finally {
    t.remove();
  }
});

test('a short entry splits the first cluster into high and low halves', () => {
  const out = new Uint8Array(32);
  encodeShortEntry({
    name11: new TextEncoder().encode('BOOTX64 EFI'), attributes: 0x20, caseFlags: 0, firstCluster: 0x12345, size: 5_000_000, mtime: 0,
  }, out, 0);
  const e = DIR_ENTRY.decode(out);
  assert.equal(e.firstClusterHigh, 0x1);
  assert.equal(e.firstClusterLow, 0x2345);
  assert.equal(e.fileSize, 5_000_000);
  assert.equal(e.attributes, 0x20);
  assert.equal(e.accessDate, e.writeDate);
  assert.equal(e.createDate, e.writeDate);
});
