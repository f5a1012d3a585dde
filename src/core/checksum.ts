/**
 * Checksums used by the on-disk formats (format-specs §0.1).
 * CRC-32 (IEEE) comes from node:zlib; CRC-32C is computed here with slicing-by-8.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** Standard CRC-32 (GPT, gzip): init and final XOR 0xFFFFFFFF. */
export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous) >>> 0;
}

const IEEE_REFLECTED = 0xedb88320;

/** a·b modulo the CRC-32 polynomial, both bit-reflected as the CRC register holds them. */
function multiplyModPolynomial(a: number, b: number): number {
  let product = 0;
  for (let bit = 0x80000000; bit !== 0 && (a & (bit * 2 - 1)) !== 0; bit >>>= 1) {
    if ((a & bit) !== 0) product ^= b;
    b = b & 1 ? (b >>> 1) ^ IEEE_REFLECTED : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..31 (reflected). */
const X_POWERS = (() => {
  const powers = new Uint32Array(32);
  powers[0] = 0x40000000; // x^1
  for (let k = 1; k < 32; k++) powers[k] = multiplyModPolynomial(powers[k - 1]!, powers[k - 1]!);
  return powers;
})();

/**
 * The CRC-32 of A followed by B from the CRC-32s of A and B and B's length: a unit kept
 * in a cache with its CRC joins a running CRC without its bytes being read again.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  // crcA times x^(8·lengthB): one factor x^(2^k) per set bit of the bit count.
  let shift = 0x80000000; // x^0
  let bits = lengthB;
  for (let k = 3; bits > 0; k++, bits = Math.floor(bits / 2)) {
    if (bits % 2 === 1) shift = multiplyModPolynomial(X_POWERS[k % 32]!, shift);
  }
  return (multiplyModPolynomial(shift, crcA >>> 0) ^ crcB) >>> 0;
}

const CASTAGNOLI_REFLECTED = 0x82f63b78;

const crc32cTables: Uint32Array[] = (() => {
  const tables: Uint32Array[] = [];
  const base = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
    base[n] = c >>> 0;
  }
  tables.push(base);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1]!;
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) table[n] = (prev[n]! >>> 8) ^ base[prev[n]! & 0xff]!;
    tables.push(table);
  }
  return tables;
})();

/**
 * CRC-32C register update without pre- or post-inversion, as ext4 and jbd2 chain it:
 * the caller passes the running value (for example 0xFFFFFFFF to start).
 */
export function crc32cUpdate(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crc32cTables as [
    Uint32Array, Uint32Array, Uint32Array, Uint32Array,
    Uint32Array, Uint32Array, Uint32Array, Uint32Array,
  ];
  let c = crc >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^
      t3[data[i + 4]!]! ^ t2[data[i + 5]!]! ^ t1[data[i + 6]!]! ^ t0[data[i + 7]!]!;
  }
  for (; i < end; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** Standard CRC-32C (VHDX, iSCSI): init and final XOR 0xFFFFFFFF. */
export function crc32c(data: Uint8Array): number {
  return (crc32cUpdate(0xffffffff, data) ^ 0xffffffff) >>> 0;
}
