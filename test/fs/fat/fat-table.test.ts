import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FatTable } from '../../../src/fs/fat/fat-table.js';

test('FAT12 packs two entries into three bytes', () => {
  const table = new FatTable(12, 0xf0, [{ first: 2, count: 3 }]);
  assert.equal(table.usedBytes, 8);
  // Entries: FF0 (media), FFF, 003, 004, FFF.
  assert.deepEqual(Array.from(table.encode(0, table.usedBytes)), [0xf0, 0xff, 0xff, 0x03, 0x40, 0x00, 0xff, 0x0f]);
  assert.deepEqual(Array.from(table.encode(0, 12)).slice(8), [0, 0, 0, 0]);
});

test('FAT16 and FAT32 chains point to the next cluster and end with end-of-chain', () => {
  const f16 = new FatTable(16, 0xf8, [{ first: 2, count: 1 }, { first: 3, count: 2 }, { first: 7, count: 1 }]);
  const words = new Uint16Array(f16.encode(0, f16.usedBytes).buffer);
  assert.deepEqual(Array.from(words), [0xfff8, 0xffff, 0xffff, 0x0004, 0xffff, 0, 0, 0xffff]);
  const f32 = new FatTable(32, 0xf8, [{ first: 2, count: 2 }]);
  const longs = new Uint32Array(f32.encode(0, f32.usedBytes).buffer);
  assert.deepEqual(Array.from(longs), [0x0ffffff8, 0x0fffffff, 3, 0x0fffffff]);
  assert.equal(f32.entry(5), 0);
});

test('encoding a FAT in chunks gives the same bytes as encoding it whole', () => {
  const runs = [];
  let next = 2;
  for (let i = 0; i < 500; i++) {
    const count = 1 + ((i * 7919) % 97);
    runs.push({ first: next, count });
    next += count + (i % 3 === 0 ? 1 : 0);
  }
  const table = new FatTable(32, 0xf8, runs);
  const whole = table.encode(0, table.usedBytes);
  const parts: Uint8Array[] = [];
  for (let from = 0; from < table.usedBytes; from += 4 * 333) parts.push(table.encode(from, Math.min(table.usedBytes, from + 4 * 333)));
  assert.deepEqual(Buffer.concat(parts), Buffer.from(whole));
  assert.throws(() => table.encode(2, 10), /splits an entry/);
  assert.throws(() => new FatTable(16, 0xf8, [{ first: 5, count: 2 }, { first: 6, count: 1 }]), /overlaps/);
});
