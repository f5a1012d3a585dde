/**
 * LZ4 block format compressor (what squashfs's lz4 stores and the kernel's
 * LZ4_decompress_safe reads): sequences of a token (literal length, match length - 4),
 * extended lengths in 255 steps, literals, and a 2-byte little-endian offset. Greedy
 * matching through a hash table of 4-byte sequences, as LZ4's fast mode does. The format's
 * end rules: the last 5 bytes are literals and no match starts in the last 12 bytes.
 */
const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MATCH_FIND_LIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_LOG = 16;

/** Worst-case size of a block of `length` bytes (LZ4_compressBound). */
export function lz4Bound(length: number): number {
  return length + Math.floor(length / 255) + 16;
}

export function lz4CompressBlock(input: Uint8Array): Uint8Array {
  const output = new Uint8Array(lz4Bound(input.length));
  const table = new Int32Array(1 << HASH_LOG).fill(-1);
  const length = input.length;
  let out = 0;
  let anchor = 0;
  let at = 0;
  const read32 = (i: number): number => (input[i]! | (input[i + 1]! << 8) | (input[i + 2]! << 16) | (input[i + 3]! << 24)) >>> 0;
  const hash = (value: number): number => Math.imul(value, 2654435761) >>> (32 - HASH_LOG);
  const writeLength = (rest: number): void => {
    while (rest >= 255) { output[out++] = 255; rest -= 255; }
    output[out++] = rest;
  };
  const matchLimit = length - MATCH_FIND_LIMIT;
  while (at < matchLimit) {
    const value = read32(at);
    const slot = hash(value);
    const candidate = table[slot]!;
    table[slot] = at;
    if (candidate < 0 || at - candidate > MAX_OFFSET || read32(candidate) !== value) {
      at++;
      continue;
    }
    // Extend the match; it may not reach into the last LAST_LITERALS bytes.
    let matchEnd = at + MIN_MATCH;
    let from = candidate + MIN_MATCH;
    const endLimit = length - LAST_LITERALS;
    while (matchEnd < endLimit && input[matchEnd] === input[from]) { matchEnd++; from++; }
    const literalLength = at - anchor;
    const matchLength = matchEnd - at - MIN_MATCH;
    const token = out++;
    output[token] = (Math.min(literalLength, 15) << 4) | Math.min(matchLength, 15);
    if (literalLength >= 15) writeLength(literalLength - 15);
    output.set(input.subarray(anchor, at), out);
    out += literalLength;
    const offset = at - candidate;
    output[out++] = offset & 0xff;
    output[out++] = offset >>> 8;
    if (matchLength >= 15) writeLength(matchLength - 15);
    at = matchEnd;
    anchor = at;
    if (at - 2 >= 0 && at - 2 < matchLimit) table[hash(read32(at - 2))] = at - 2;
  }
  const literalLength = length - anchor;
  output[out++] = Math.min(literalLength, 15) << 4;
  if (literalLength >= 15) writeLength(literalLength - 15);
  output.set(input.subarray(anchor), out);
  out += literalLength;
  return output.slice(0, out);
}
