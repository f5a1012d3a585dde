/**
 * XXH64 (the xxHash 64-bit algorithm, as published in its specification), for the content
 * checksum that ends a zstd frame.
 *
 * The bulk of the work, the four-lane loop over 32-byte stripes, runs in a tiny
 * WebAssembly function assembled below from its instructions (WebAssembly has native
 * 64-bit multiply and rotate; about 20 times faster than JavaScript here). Everything else
 * (setup, the tail under 32 bytes, the final mix) is JavaScript, where a 64-bit value is
 * kept as two unsigned 32-bit halves and products are formed from 16-bit limbs, which stay
 * exact in doubles. `xxhash64Portable` does the stripes in JavaScript too; the tests check
 * both against each other and against the zstd tool.
 */

// The five 64-bit primes as (high, low) halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

const TWO32 = 4294967296;

// Results of the helpers below (no allocation in the hot loop).
let rh = 0;
let rl = 0;

/** (ah:al) * (bh:bl) mod 2^64 into rh:rl. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16;
  const b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a1 * b0 + a0 * b1; // < 2^33
  const t = a0 * b0 + (mid % 65536) * 65536; // < 2^33
  rl = t >>> 0;
  rh = (a1 * b1 + Math.floor(mid / 65536) + Math.floor(t / TWO32) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64 into rh:rl. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const low = al + bl;
  rl = low >>> 0;
  rh = (ah + bh + (low >= TWO32 ? 1 : 0)) >>> 0;
}

/** Rotates (h:l) left by n (0 < n < 32) into rh:rl. */
function rotl(h: number, l: number, n: number): void {
  rh = ((h << n) | (l >>> (32 - n))) >>> 0;
  rl = ((l << n) | (h >>> (32 - n))) >>> 0;
}

/** One accumulator round: acc = rotl(acc + input * P2, 31) * P1, into rh:rl. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** XXH64 of `data` with seed 0, as [high 32 bits, low 32 bits]. */
export function xxhash64(data: Uint8Array): [high: number, low: number] {
  return hash(data, stripeModule() !== undefined);
}

/** The same, without WebAssembly. */
export function xxhash64Portable(data: Uint8Array): [high: number, low: number] {
  return hash(data, false);
}

function hash(data: Uint8Array, useWasm: boolean): [high: number, low: number] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.length;
  let p = 0;
  let hh: number, hl: number;
  if (length >= 32) {
    // seed 0: v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1
    add(P1H, P1L, P2H, P2L);
    let v1h = rh, v1l = rl;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    let v4h = ~P1H >>> 0, v4l = -P1L >>> 0; // P1L is not 0, so no carry into the high half
    const stripeBytes = length - (length % 32);
    const lanes = [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l];
    if (useWasm) wasmStripes(data, stripeBytes, lanes);
    else jsStripes(view, stripeBytes, lanes);
    [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l] = lanes as [number, number, number, number, number, number, number, number];
    p = stripeBytes;
    rotl(v1h, v1l, 1); hh = rh; hl = rl;
    rotl(v2h, v2l, 7); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v3h, v3l, 12); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v4h, v4l, 18); add(hh, hl, rh, rl); hh = rh; hl = rl;
    for (const [vh, vl] of [[v1h, v1l], [v2h, v2l], [v3h, v3l], [v4h, v4l]] as const) {
      round(0, 0, vh, vl);
      hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
      mul(hh, hl, P1H, P1L);
      add(rh, rl, P4H, P4L); hh = rh; hl = rl;
    }
  } else {
    hh = P5H; hl = P5L;
  }
  add(hh, hl, Math.floor(length / TWO32), length >>> 0); hh = rh; hl = rl;
  while (p + 8 <= length) {
    round(0, 0, view.getUint32(p + 4, true), view.getUint32(p, true));
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 27);
    mul(rh, rl, P1H, P1L);
    add(rh, rl, P4H, P4L); hh = rh; hl = rl;
    p += 8;
  }
  if (p + 4 <= length) {
    mul(0, view.getUint32(p, true), P1H, P1L);
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 23);
    mul(rh, rl, P2H, P2L);
    add(rh, rl, P3H, P3L); hh = rh; hl = rl;
    p += 4;
  }
  while (p < length) {
    mul(0, data[p]!, P5H, P5L);
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 11);
    mul(rh, rl, P1H, P1L); hh = rh; hl = rl;
    p++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L); hh = rh; hl = rl;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L); hh = rh; hl = rl;
  hl = (hl ^ hh) >>> 0;
  return [hh, hl];
}

/** The stripe loop in JavaScript: lanes[2i], lanes[2i+1] = high, low of lane i. */
function jsStripes(view: DataView, stripeBytes: number, lanes: number[]): void {
  for (let p = 0; p < stripeBytes; p += 32) {
    for (let lane = 0; lane < 4; lane++) {
      round(lanes[2 * lane]!, lanes[2 * lane + 1]!, view.getUint32(p + 8 * lane + 4, true), view.getUint32(p + 8 * lane, true));
      lanes[2 * lane] = rh;
      lanes[2 * lane + 1] = rl;
    }
  }
}

// --- The WebAssembly stripe loop -------------------------------------------------------
//
// (func (export "stripes") (param $p i32) (param $end i32)
//   (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
//   lanes <- memory[0..32)
//   (block (br_if 0 (i32.ge_u $p $end))
//     (loop  for each lane i: v_i = rotl(v_i + load64(p + 8i) * P2, 31) * P1
//            p += 32; (br_if 0 (i32.lt_u p end))))
//   memory[0..32) <- lanes)
// The exported memory holds the lanes at 0 and the data at DATA_AT.

const DATA_AT = 64;
const BLOCK = 1 << 20;

const OP = {
  block: 0x02, loop: 0x03, end: 0x0b, brIf: 0x0d, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i64Load: 0x29, i64Store: 0x37, i32Const: 0x41, i64Const: 0x42, i32GeU: 0x4f, i32LtU: 0x49,
  i32Add: 0x6a, i64Add: 0x7c, i64Mul: 0x7e, i64Rotl: 0x89, void: 0x40, i32: 0x7f, i64: 0x7e,
} as const;

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function signedLeb(value: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(value & 0x7fn);
    value >>= 7n;
    const done = (value === 0n && (byte & 0x40) === 0) || (value === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
}

function assembleStripeModule(): Uint8Array {
  const signed64 = (high: number, low: number): bigint => BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low));
  const P1 = signedLeb(signed64(P1H, P1L));
  const P2 = signedLeb(signed64(P2H, P2L));
  const memarg = (offset: number): number[] => [3, ...unsignedLeb(offset)];
  const code: number[] = [];
  for (let lane = 0; lane < 4; lane++) code.push(OP.i32Const, 0, OP.i64Load, ...memarg(8 * lane), OP.localSet, 2 + lane);
  code.push(OP.block, OP.void, OP.localGet, 0, OP.localGet, 1, OP.i32GeU, OP.brIf, 0, OP.loop, OP.void);
  for (let lane = 0; lane < 4; lane++) {
    code.push(
      OP.localGet, 2 + lane,
      OP.localGet, 0, OP.i64Load, ...memarg(8 * lane),
      OP.i64Const, ...P2, OP.i64Mul, OP.i64Add,
      OP.i64Const, 31, OP.i64Rotl,
      OP.i64Const, ...P1, OP.i64Mul,
      OP.localSet, 2 + lane,
    );
  }
  code.push(OP.localGet, 0, OP.i32Const, 32, OP.i32Add, OP.localTee, 0, OP.localGet, 1, OP.i32LtU, OP.brIf, 0, OP.end, OP.end);
  for (let lane = 0; lane < 4; lane++) code.push(OP.i32Const, 0, OP.localGet, 2 + lane, OP.i64Store, ...memarg(8 * lane));
  code.push(OP.end);
  const body = [1, 4, OP.i64, ...code]; // one local group: four i64
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, OP.i32, OP.i32, 0]), // type 0: (i32, i32) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0x00, ...unsignedLeb(Math.ceil((DATA_AT + BLOCK) / 65536))]), // one memory
    ...section(7, [2, ...name('stripes'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ]);
}

interface StripeModule {
  readonly stripes: (p: number, end: number) => void;
  readonly memory: { readonly buffer: ArrayBuffer };
}

/** The part of the WebAssembly global used here (the project's lib settings do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: object };
}

let stripeInstance: StripeModule | null | undefined;

/** The compiled stripe loop, or undefined where WebAssembly is not available. */
function stripeModule(): StripeModule | undefined {
  if (stripeInstance === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const instance = new wasm.Instance(new wasm.Module(assembleStripeModule()));
      stripeInstance = instance.exports as unknown as StripeModule;
    } catch {
      stripeInstance = null;
    }
  }
  return stripeInstance ?? undefined;
}

function wasmStripes(data: Uint8Array, stripeBytes: number, lanes: number[]): void {
  const { stripes, memory } = stripeModule()!;
  const state = new BigUint64Array(memory.buffer, 0, 4);
  for (let lane = 0; lane < 4; lane++) state[lane] = (BigInt(lanes[2 * lane]!) << 32n) | BigInt(lanes[2 * lane + 1]!);
  const heap = new Uint8Array(memory.buffer);
  for (let at = 0; at < stripeBytes; at += BLOCK) {
    const length = Math.min(BLOCK, stripeBytes - at);
    heap.set(data.subarray(at, at + length), DATA_AT);
    stripes(DATA_AT, DATA_AT + length);
  }
  for (let lane = 0; lane < 4; lane++) {
    lanes[2 * lane] = Number(state[lane]! >> 32n);
    lanes[2 * lane + 1] = Number(state[lane]! & 0xffffffffn);
  }
}
