/**
 * The directory-index name hash: half-MD4 (hash version 1, what mke2fs makes the
 * default) keyed by the superblock's s_hash_seed, names taken as signed chars (the
 * superblock's "signed_directory_hash" flag, as mke2fs sets it on x86). The kernel and
 * e2fsck compute the same function (Linux fs/ext4/hash.c, e2fsprogs lib/ext2fs/dirhash.c).
 */

export const HASH_HALF_MD4 = 1;
/** s_flags: names hash as signed chars. */
export const SIGNED_HASH = 0x1;

/** The four seed words (little-endian in s_hash_seed); an all-zero seed means MD4's own. */
export function hashSeedWords(seed: Uint8Array): Uint32Array {
  const view = new DataView(seed.buffer, seed.byteOffset, 16);
  const words = Uint32Array.from({ length: 4 }, (_, i) => view.getUint32(4 * i, true));
  return words.some((w) => w !== 0) ? words : Uint32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
}

const K2 = 0x5a827999;
const K3 = 0x6ed9eba1;
const input = new Int32Array(8);
const state = new Int32Array(4);

const rotl = (x: number, s: number): number => (x << s) | (x >>> (32 - s));
const f = (x: number, y: number, z: number): number => z ^ (x & (y ^ z));
const g = (x: number, y: number, z: number): number => ((x & y) + ((x ^ y) & z)) | 0;
const h = (x: number, y: number, z: number): number => x ^ y ^ z;

/** MD4's compression function cut to three rounds of eight steps. */
function halfMd4Transform(): void {
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  const x = input;
  a = rotl((a + f(b, c, d) + x[0]!) | 0, 3); d = rotl((d + f(a, b, c) + x[1]!) | 0, 7);
  c = rotl((c + f(d, a, b) + x[2]!) | 0, 11); b = rotl((b + f(c, d, a) + x[3]!) | 0, 19);
  a = rotl((a + f(b, c, d) + x[4]!) | 0, 3); d = rotl((d + f(a, b, c) + x[5]!) | 0, 7);
  c = rotl((c + f(d, a, b) + x[6]!) | 0, 11); b = rotl((b + f(c, d, a) + x[7]!) | 0, 19);

  a = rotl((a + g(b, c, d) + x[1]! + K2) | 0, 3); d = rotl((d + g(a, b, c) + x[3]! + K2) | 0, 5);
  c = rotl((c + g(d, a, b) + x[5]! + K2) | 0, 9); b = rotl((b + g(c, d, a) + x[7]! + K2) | 0, 13);
  a = rotl((a + g(b, c, d) + x[0]! + K2) | 0, 3); d = rotl((d + g(a, b, c) + x[2]! + K2) | 0, 5);
  c = rotl((c + g(d, a, b) + x[4]! + K2) | 0, 9); b = rotl((b + g(c, d, a) + x[6]! + K2) | 0, 13);

  a = rotl((a + h(b, c, d) + x[3]! + K3) | 0, 3); d = rotl((d + h(a, b, c) + x[7]! + K3) | 0, 9);
  c = rotl((c + h(d, a, b) + x[2]! + K3) | 0, 11); b = rotl((b + h(c, d, a) + x[6]! + K3) | 0, 15);
  a = rotl((a + h(b, c, d) + x[1]! + K3) | 0, 3); d = rotl((d + h(a, b, c) + x[5]! + K3) | 0, 9);
  c = rotl((c + h(d, a, b) + x[0]! + K3) | 0, 11); b = rotl((b + h(c, d, a) + x[4]! + K3) | 0, 15);

  state[0] = state[0]! + a;
  state[1] = state[1]! + b;
  state[2] = state[2]! + c;
  state[3] = state[3]! + d;
}

/**
 * Packs up to 32 bytes of the name from `from` into the eight input words, big-endian
 * within each word, padded with the remaining length repeated in every byte.
 */
function loadInput(name: string, from: number): void {
  const length = name.length - from;
  let pad = (length & 0xff) | ((length & 0xff) << 8);
  pad |= pad << 16;
  const take = Math.min(length, 32);
  let value = pad;
  let word = 0;
  for (let i = 0; i < take; i++) {
    const byte = name.charCodeAt(from + i);
    value = ((byte >= 0x80 ? byte - 0x100 : byte) + (value << 8)) | 0;
    if (i % 4 === 3) {
      input[word++] = value;
      value = pad;
    }
  }
  if (word < 8) input[word++] = value;
  while (word < 8) input[word++] = pad;
}

/** The major hash (bit 0 clear; bit 0 of an index entry marks a collision) and the minor hash of a name (latin1 byte string). */
export function directoryHash(name: string, seed: Uint32Array): { hash: number; minor: number } {
  state.set(seed);
  for (let from = 0; from < name.length; from += 32) {
    loadInput(name, from);
    halfMd4Transform();
  }
  return { hash: (state[1]! & ~1) >>> 0, minor: state[2]! >>> 0 };
}
