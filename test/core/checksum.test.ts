import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, crc32c, crc32cUpdate, crc32Combine } from '../../src/core/checksum.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('crc32 of "123456789" is the IEEE check value', () => {
  assert.equal(crc32(ascii('123456789')), 0xcbf43926);
});

test('crc32c of "123456789" is the Castagnoli check value', () => {
  assert.equal(crc32c(ascii('123456789')), 0xe3069283);
});

test('crc32c over 32 zero bytes matches RFC 3720 test vector', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
});

test('crc32c slicing agrees with bytewise update at every length and split', () => {
  const data = Uint8Array.from({ length: 77 }, (_, i) => (i * 37 + 11) & 0xff);
  const bytewise = (d: Uint8Array): number => {
    let c = 0xffffffff;
    for (const byte of d) c = crc32cUpdate(c, Uint8Array.of(byte));
    return c;
  };
  for (let len = 0; len <= data.length; len++) {
    const part = data.subarray(0, len);
    assert.equal(crc32cUpdate(0xffffffff, part), bytewise(part), `length ${len}`);
  }
  const whole = crc32cUpdate(0x1234, data);
  assert.equal(crc32cUpdate(crc32cUpdate(0x1234, data.subarray(0, 30)), data.subarray(30)), whole);
});

test('crc32Combine gives the CRC-32 of two stretches joined, from theirs and the second\'s length', () => {
  const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 131 + (i >> 7)) & 0xff);
  for (const [a, b] of [[0, 0], [7, 0], [0, 9], [1, 1], [100, 65_537], [150_000, 50_000]] as const) {
    const first = data.subarray(0, a);
    const second = data.subarray(a, a + b);
    assert.equal(crc32Combine(crc32(first), crc32(second), b), crc32(data.subarray(0, a + b)), `${a} + ${b}`);
  }
});
