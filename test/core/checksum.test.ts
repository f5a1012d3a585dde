import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, crc32c, crc32cUpdate } from '../../src/core/checksum.js';

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
