/**
 * Raw LZMA2 through @napi-rs/lzma (the lzma-rust2 encoder, as fast as liblzma's on the
 * same core within a few per cent; docs/formats/compression.md). The .xz framing around
 * it is this project's (xz-container.ts), so the check type, block sizes and dictionary
 * the decoder allocates are chosen here.
 */
import { Lzma2Compressor } from '@napi-rs/lzma';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { constants, zstdCompressSync } from 'node:zlib';
import { contextSizer, oneShotEncoder, type FrameEncoder } from './zstd-encoder.js';
import { zstdFrameBound } from './zstd-frame.js';

let lzmaPackageVersion: string | undefined;
/** The encoder's version (the @napi-rs/lzma package's), part of every cached unit's key it made. */
export function lzmaEncoderVersion(): string {
  if (lzmaPackageVersion === undefined) {
    const main = createRequire(import.meta.url).resolve('@napi-rs/lzma');
    lzmaPackageVersion = (JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version: string }).version;
  }
  return lzmaPackageVersion;
}

/** xz's presets 0 to 9; 6 is xz's default. */
export const XZ_DEFAULT_PRESET = 6;

/**
 * Compresses `input` as one raw LZMA2 stream. The dictionary never needs to exceed the
 * input: the encoder's is min(dictionarySize, input) rounded to a size LZMA2 can name.
 */
export async function compressLzma2(input: Uint8Array, preset: number, dictionarySize: number): Promise<Uint8Array> {
  const encoder = new Lzma2Compressor({ preset, dictSize: dictionarySize });
  const head = encoder.update(input);
  const tail = await encoder.finish();
  if (head.length === 0) return tail;
  const whole = new Uint8Array(head.length + tail.length);
  whole.set(head, 0);
  whole.set(tail, head.length);
  return whole;
}

/** LZMA2's largest uncompressed chunk. */
const STORED_CHUNK = 1 << 16;
/** Bytes per unit the randomness test looks at: the tar block, so headers fall in units of their own. */
const UNIT = 512;
/** A zstd frame of a unit zstd cannot shrink: the unit as a raw block plus the frame's header. */
const TRIAL_OVERHEAD = 10;
/** A run is stored only when zstd -3 saves less than this share of it. */
const RUN_GAIN = 0.005;
/** Runs of random units shorter than this are compressed with their neighbours rather than stored. */
const MIN_STORED_UNITS = 8;
/** Stored runs must be this long on average in their group. */
const MIN_MEAN_RUN = 16 << 10;
/** Candidate runs are judged in groups of about this many bytes. */
const GROUP_BYTES = 1 << 20;

type Sizer = NonNullable<ReturnType<typeof contextSizer>>;
let sizer: Sizer | undefined;
let trial: { encode: FrameEncoder; room: Uint8Array } | undefined;

/**
 * The units of `data` that do not compress: zstd at level 1 (a few per cent of LZMA's
 * time), reading `data` as one stream, spends at least the unit's own size on them, even
 * with the earlier units (up to its window) to match against. Those are compressed or
 * random bytes that LZMA could not shrink either, except by a repeat further back.
 */
function randomUnits(data: Uint8Array): Uint8Array {
  sizer ??= contextSizer(1, UNIT);
  const units = Math.ceil(data.length / UNIT);
  const random = new Uint8Array(units);
  if (sizer !== undefined) {
    sizer.reset();
    for (let unit = 0; unit < units; unit++) {
      const piece = data.subarray(unit * UNIT, (unit + 1) * UNIT);
      if (sizer.measure(piece) >= piece.length && piece.length === UNIT) random[unit] = 1;
    }
    return random;
  }
  trial ??= { encode: oneShotEncoder(1, false), room: new Uint8Array(zstdFrameBound(UNIT)) };
  for (let unit = 0; unit < units; unit++) {
    const piece = data.subarray(unit * UNIT, (unit + 1) * UNIT);
    if (piece.length === UNIT && trial.encode(piece, trial.room) >= UNIT + TRIAL_OVERHEAD) random[unit] = 1;
  }
  return random;
}

/**
 * Whether a run of units that do not compress one by one compresses as a whole: many
 * small gzip files in a row do (their headers and tables repeat), by a few per cent.
 */
function shrinks(run: Uint8Array): boolean {
  const packed = zstdCompressSync(run, { params: { [constants.ZSTD_c_compressionLevel]: 3 } });
  return packed.length < run.length * (1 - RUN_GAIN);
}

/** LZMA2 uncompressed chunks holding `data`, as headers and views of it; the first resets the dictionary when `reset`. */
function storedChunks(data: Uint8Array, reset: boolean): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += STORED_CHUNK) {
    const piece = data.subarray(at, at + STORED_CHUNK);
    pieces.push(Uint8Array.of(at === 0 && reset ? 0x01 : 0x02, (piece.length - 1) >> 8, (piece.length - 1) & 0xff), piece);
  }
  return pieces;
}

/**
 * Compresses `input` as one raw LZMA2 stream, storing runs of random-looking bytes as
 * LZMA2's uncompressed chunks instead of running the encoder over them: LZMA spends as
 * long failing to shrink compressed or random data as compressing text (1.6 MB/s a core
 * at preset 6), and liblzma would store such data anyway. Each compressed run is its own
 * encoder stream (a dictionary reset, which LZMA2 allows at any chunk) with its end
 * marker dropped; one end marker closes the whole. Returns the stream in pieces (stored
 * data as views of `input`, copied once when the block is assembled). Input without such
 * runs gives exactly compressLzma2's bytes.
 */
export async function compressLzma2Mixed(input: Uint8Array, preset: number, dictionarySize: number): Promise<Uint8Array[]> {
  const random = randomUnits(input);
  // Candidate runs of random units: [start unit, end unit].
  const candidates: [number, number][] = [];
  for (let unit = 0; unit < random.length;) {
    let end = unit;
    while (end < random.length && random[end] === random[unit]) end++;
    if (random[unit] === 1 && end - unit >= MIN_STORED_UNITS) candidates.push([unit, end]);
    unit = end;
  }
  // Neighbouring candidates are judged together: many small files in a row (gzip'ed man
  // pages) do not shrink one by one, but LZMA's literal coder gains a few per cent over
  // all of them; random files between tar headers gain nothing however many there are.
  const storedUnits = new Uint8Array(random.length);
  for (let from = 0; from < candidates.length;) {
    let to = from;
    let bytes = 0;
    while (to < candidates.length && bytes < GROUP_BYTES) {
      bytes += (candidates[to]![1] - candidates[to]![0]) * UNIT;
      to++;
    }
    const group = candidates.slice(from, to);
    const joined = Buffer.concat(group.map(([a, b]) => input.subarray(a * UNIT, Math.min(input.length, b * UNIT))));
    // Each stored run restarts LZMA's dictionary after it; short runs would lose more there than storing saves.
    if (joined.length / group.length >= MIN_MEAN_RUN && !shrinks(joined)) for (const [a, b] of group) storedUnits.fill(1, a, b);
    from = to;
  }
  // Runs of units: [start unit, end unit, stored?]
  const runs: [number, number, boolean][] = [];
  for (let unit = 0; unit < storedUnits.length;) {
    let end = unit;
    while (end < storedUnits.length && storedUnits[end] === storedUnits[unit]) end++;
    runs.push([unit, end, storedUnits[unit] === 1]);
    unit = end;
  }
  if (runs.length <= 1 && runs[0]?.[2] !== true) return [await compressLzma2(input, preset, dictionarySize)];
  const pieces: Uint8Array[] = [];
  for (const [first, end, stored] of runs) {
    const data = input.subarray(first * UNIT, Math.min(input.length, end * UNIT));
    if (stored) {
      pieces.push(...storedChunks(data, pieces.length === 0));
      continue;
    }
    const stream = await compressLzma2(data, preset, Math.min(dictionarySize, Math.max(4096, data.length)));
    if (stream.at(-1) !== 0x00) throw new Error('the LZMA2 encoder\'s stream does not end with its end marker');
    pieces.push(stream.subarray(0, stream.length - 1));
  }
  pieces.push(Uint8Array.of(0x00));
  return pieces;
}
