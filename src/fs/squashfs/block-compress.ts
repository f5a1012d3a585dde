/**
 * A squashfs data block compressed with the filesystem's codec, on the thread that calls
 * it (a worker's: the block pool's, or the one that compresses a new store path ahead).
 * zstd reuses one encoder for the thread's life (src/compress/zstd-encoder.ts, without
 * the content checksum, as mksquashfs's ZSTD_compressCCtx writes frames); gzip and lz4
 * compress with node:zlib and lz4.ts; xz with lzma2.ts, framed as one .xz stream per block.
 *
 * At the slow zstd levels a block is first tried at level 1: when even that does not
 * shrink it (compressed or random data, such as kernel modules, firmware, and compressed
 * man pages), the slow level would not shrink it either and the block is stored raw,
 * as mksquashfs stores any block compression does not shrink. The trial costs about 2 %
 * of a level-19 compression and saves all of it on such blocks.
 */
import { compressLzma2 } from '../../compress/lzma2.js';
import { xzSingleBlockStream } from '../../compress/xz-container.js';
import { oneShotEncoder, persistentEncoder, type FrameEncoder } from '../../compress/zstd-encoder.js';
import { zstdFrameBound } from '../../compress/zstd-frame.js';
import { compressBlockSync, type BlockCodec } from './codec.js';

let zstd: { level: number; encode: FrameEncoder; room: Uint8Array } | undefined;
let trial: FrameEncoder | undefined;

/** Levels from which the level-1 trial pays for itself. */
const TRIAL_FROM_LEVEL = 10;

function encoder(level: number): FrameEncoder {
  return persistentEncoder(level, false) ?? oneShotEncoder(level, false);
}

/**
 * One data block compressed as the filesystem's codec compresses it; the input itself
 * when it is to be stored raw (the caller stores any block that did not shrink raw).
 */
export async function compressBlock(codec: BlockCodec, input: Uint8Array): Promise<Uint8Array> {
  if (codec.name === 'xz') {
    const dictionary = codec.dictionarySize!;
    return xzSingleBlockStream(await compressLzma2(input, codec.level, dictionary), input, dictionary);
  }
  if (codec.name !== 'zstd') return compressBlockSync(codec, input) ?? input;
  if (zstd?.level !== codec.level) {
    zstd = { level: codec.level, encode: encoder(codec.level), room: new Uint8Array(0) };
  }
  const bound = zstdFrameBound(input.length);
  if (zstd.room.length < bound) zstd.room = new Uint8Array(bound);
  if (codec.level >= TRIAL_FROM_LEVEL) {
    trial ??= encoder(1);
    // Returning the input makes the caller store the block raw.
    if (trial(input, zstd.room.subarray(0, bound)) >= input.length) return input;
  }
  // The room is part of a frame's identity (zstd-encoder.ts): always the bound of this input.
  const length = zstd.encode(input, zstd.room.subarray(0, bound));
  return zstd.room.slice(0, length);
}
