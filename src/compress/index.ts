/** Compressing ByteSinks: parallel, deterministic gzip, zstd and xz. */
export { chunkedSink, type ChunkCodec, type CompressingSink } from './chunked-sink.js';
export { gzipSink, GZIP_DEFAULT_CHUNK, GZIP_DEFAULT_LEVEL, type GzipSinkOptions } from './gzip.js';
export { zstdStoredFrameSink } from './zstd-stored-frame.js';
export { zstdSink, ZSTD_DEFAULT_CHUNK, ZSTD_DEFAULT_LEVEL, type ZstdSinkOptions } from './zstd.js';
export { readFrameHeader, type FrameHeader } from './zstd-frame.js';
export { xzSink, XZ_DEFAULT_DICTIONARY, type XzSinkOptions } from './xz.js';
