/**
 * The block compressors squashfs readers accept, as mksquashfs writes them: zstd frames
 * as ZSTD_compressCCtx makes them (content size in the header, no checksum), zlib-wrapped
 * deflate (the kernel's zlib_wrapper inflates with the zlib header), LZ4 block format, and
 * xz as mksquashfs's xz_wrapper writes it: each block a whole .xz stream with a CRC32
 * check, LZMA2 at xz's default preset with the block size as dictionary (8 KiB for
 * metadata), no BCJ filter.
 * "none" is mksquashfs's -noI -noD -noF -noX: gzip's id with every table stored raw.
 * Also the compressor options block that follows the superblock when settings differ from
 * the reader's defaults (always for lz4: the kernel requires its version field).
 */
import { lzma2 } from '@napi-rs/lzma';
import { constants, deflateSync, zstdCompressSync } from 'node:zlib';
import { UsageError } from '../../core/errors.js';
import { lzmaEncoderVersion, XZ_DEFAULT_PRESET } from '../../compress/lzma2.js';
import { lzma2DictionaryProperty, lzma2DictionarySize, xzSingleBlockStream } from '../../compress/xz-container.js';
import { lz4CompressBlock } from './lz4.js';
import { COMPRESSION_ID } from './superblock.js';

export type SquashfsCompression = 'zstd' | 'gzip' | 'xz' | 'lz4' | 'none';
export type BlockCodecName = SquashfsCompression;

export interface BlockCodec {
  readonly name: BlockCodecName;
  /** zstd and gzip levels; xz's preset (always xz's default, as mksquashfs); 0 otherwise. */
  readonly level: number;
  /** xz only: the data blocks' LZMA2 dictionary. */
  readonly dictionarySize?: number;
  /** xz only: the filesystem's block size, the dictionary mksquashfs writes no options for. */
  readonly blockSize?: number;
}

/** mksquashfs's SQUASHFS_METADATA_SIZE: the xz dictionary of metadata blocks. */
const METADATA_DICTIONARY = 8192;

/** mksquashfs's defaults, the levels it writes no options for. */
const MKSQUASHFS_DEFAULT_LEVEL = { zstd: 15, gzip: 9 } as const;
/** nixpkgs' iso-image.nix compresses the store with zstd -Xcompression-level 19. */
export const DEFAULT_LEVEL = { zstd: 19, gzip: 9, lz4: 0, none: 0 } as const;
const LZ4_LEGACY = 1;

export function blockCodec(compression: SquashfsCompression, level: number | undefined, blockSize: number, dictionarySize?: number): BlockCodec {
  if (dictionarySize !== undefined && compression !== 'xz') {
    throw new UsageError('squashfs.dictionary', `Cannot use a dictionary size with ${compression}: only xz has one`, { hint: 'leave -Xdict-size out' });
  }
  switch (compression) {
    case 'xz':
      if (level !== undefined) {
        throw new UsageError('squashfs.level', `Cannot use compression level ${level} with xz: mksquashfs's xz has no levels`, { hint: 'use "xz" or "xz -Xdict-size N%"' });
      }
      // As mksquashfs: a dictionary given is checked, the default (the block size, 4 KiB
      // or more, which LZMA2 accepts) is not.
      return { name: 'xz', level: XZ_DEFAULT_PRESET, dictionarySize: dictionarySize === undefined ? blockSize : checkDictionary(dictionarySize, blockSize), blockSize };
    case 'zstd':
      return { name: 'zstd', level: checkLevel('zstd', level ?? DEFAULT_LEVEL.zstd, 1, 22) };
    case 'gzip':
      return { name: 'gzip', level: checkLevel('gzip', level ?? DEFAULT_LEVEL.gzip, 1, 9) };
    case 'lz4':
    case 'none':
      if (level !== undefined) {
        throw new UsageError('squashfs.level', `Cannot use compression level ${level} with ${compression}: it has no levels`, { hint: 'leave the level unset' });
      }
      return { name: compression, level: 0 };
    default:
      throw new UsageError('squashfs.compression', `Cannot write squashfs with "${String(compression)}" compression: supported are zstd, gzip, xz, lz4 and none`, {
        hint: 'zstd -Xcompression-level 19 is what nixpkgs uses for ISOs',
      });
  }
}

/** As mksquashfs checks -Xdict-size: 8 KiB to the block size, and a size LZMA2 can name exactly. */
function checkDictionary(size: number, blockSize: number): number {
  if (!Number.isInteger(size) || size < METADATA_DICTIONARY || size > blockSize || lzma2DictionarySize(lzma2DictionaryProperty(size)) !== size) {
    throw new UsageError('squashfs.dictionary', `Cannot use xz dictionary size ${size}: expected 2^n or 3 * 2^n bytes from 8192 to the block size ${blockSize}`, {
      hint: 'for example -Xdict-size 100%, 50%, 25% or 32K',
    });
  }
  return size;
}

function checkLevel(name: string, level: number, low: number, high: number): number {
  if (!Number.isInteger(level) || level < low || level > high) {
    throw new UsageError('squashfs.level', `Cannot use ${name} level ${level}: expected a whole number from ${low} to ${high}`);
  }
  return level;
}

export function compressionId(codec: BlockCodec): number {
  return codec.name === 'none' ? COMPRESSION_ID.gzip : COMPRESSION_ID[codec.name];
}

/** The compressor options payload, or undefined when mksquashfs would write none. */
export function compressorOptions(codec: BlockCodec): Uint8Array | undefined {
  const view = (length: number): DataView => new DataView(new ArrayBuffer(length));
  switch (codec.name) {
    case 'zstd': {
      if (codec.level === MKSQUASHFS_DEFAULT_LEVEL.zstd) return undefined;
      const options = view(4);
      options.setUint32(0, codec.level, true);
      return new Uint8Array(options.buffer);
    }
    case 'gzip': {
      if (codec.level === MKSQUASHFS_DEFAULT_LEVEL.gzip) return undefined;
      const options = view(8);
      options.setUint32(0, codec.level, true);
      options.setUint16(4, 15, true); // window bits, zlib's default
      options.setUint16(6, 0, true); // no strategies chosen
      return new Uint8Array(options.buffer);
    }
    case 'xz': {
      if (codec.dictionarySize === codec.blockSize) return undefined;
      const options = view(8);
      options.setUint32(0, codec.dictionarySize!, true);
      options.setUint32(4, 0, true); // no BCJ filters
      return new Uint8Array(options.buffer);
    }
    case 'lz4': {
      const options = view(8);
      options.setUint32(0, LZ4_LEGACY, true);
      options.setUint32(4, 0, true); // not high-compression
      return new Uint8Array(options.buffer);
    }
    case 'none':
      return undefined;
  }
}

/**
 * Compresses one block on this thread, or returns undefined for "none". The caller stores
 * the input instead when the result is not smaller.
 */
export function compressBlockSync(codec: BlockCodec, input: Uint8Array): Uint8Array | undefined {
  switch (codec.name) {
    case 'xz':
      // Metadata blocks only (8 KiB at most): the encoder's dictionary is larger, but no
      // match reaches further back than the input, so naming 8 KiB is exact for decoders.
      return xzSingleBlockStream(lzma2.compressSync(input), input, Math.max(METADATA_DICTIONARY, input.length));
    case 'zstd':
      return zstdCompressSync(input, {
        pledgedSrcSize: input.length,
        params: {
          [constants.ZSTD_c_compressionLevel]: codec.level,
          [constants.ZSTD_c_checksumFlag]: 0,
          [constants.ZSTD_c_contentSizeFlag]: 1,
        },
      });
    case 'gzip':
      return deflateSync(input, { level: codec.level });
    case 'lz4':
      return lz4CompressBlock(input);
    case 'none':
      return undefined;
  }
}

/**
 * Everything besides a block's content that decides its stored bytes, for the unit cache's
 * key: the codec and its settings, the encoders' versions, and this writer's rules (the
 * level-1 trial), named by the version at the front; change it when a rule changes.
 */
export function blockCacheSettings(codec: BlockCodec, length: number, kind: 'data' | 'metadata' | 'path' = 'data'): string {
  const encoder = codec.name === 'xz' ? `lzma ${lzmaEncoderVersion()}` : codec.name === 'lz4' ? 'lz4.ts 1' : `zstd ${process.versions.zstd} zlib ${process.versions.zlib}`;
  return `squashfs-${kind} 1 ${codec.name} level ${codec.level} dictionary ${codec.dictionarySize ?? 0} length ${length} ${encoder}`;
}

