/**
 * Encoders of whole zstd frames for zstdSink's workers: content size in the header, the
 * XXH64 content checksum when asked, no dictionary, byte for byte what Node's
 * zstdCompressSync writes with pledgedSrcSize. The persistent encoder is reused for every
 * frame and writes into the caller's buffer: a fresh encoder and output buffer per frame
 * cost more than the compression (new memory is slow to touch).
 */
import { constants, createZstdCompress, zstdCompressSync } from 'node:zlib';
import { zstdFrameBound } from './zstd-frame.js';

/**
 * Compresses `input` as one whole frame into `output`, returning the frame's length.
 * `output` must hold zstdFrameBound(input.length) bytes: with that much room zstd
 * compresses in one pass, and its bytes differ (slightly) from those it writes through a
 * smaller buffer, so the room is part of the output's identity.
 */
export type FrameEncoder = (input: Uint8Array, output: Uint8Array) => number;

function zstdParams(level: number, checksum: boolean): Record<number, number> {
  return {
    [constants.ZSTD_c_compressionLevel]: level,
    [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0,
    [constants.ZSTD_c_contentSizeFlag]: 1,
  };
}

function checkRoom(input: Uint8Array, output: Uint8Array): void {
  if (output.length < zstdFrameBound(input.length)) {
    throw new Error(`the output buffer holds ${output.length} bytes, less than the ${zstdFrameBound(input.length)} a frame of ${input.length} bytes needs`);
  }
}

/** The engine inside Node's zstd stream, as node:zlib's own synchronous calls drive it. */
interface ZstdEngine {
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

/**
 * Node's zstd stream engine driven synchronously, one call per piece: `write` compresses
 * all of `input` into `output` with the flush mode given and returns the bytes written.
 * Undefined where a Node release does not expose the engine.
 */
function engineWriter(params: Record<number, number>): { write(flush: number, input: Uint8Array, output: Uint8Array): number; reset(): void } | undefined {
  const stream = createZstdCompress({ params }) as unknown as { _handle?: Partial<ZstdEngine>; _writeState?: Uint32Array };
  const engine = stream._handle;
  const state = stream._writeState;
  if (typeof engine?.writeSync !== 'function' || typeof engine.reset !== 'function' || !(state instanceof Uint32Array)) return undefined;
  let failure: string | undefined;
  engine.onerror = (message) => { failure = message; };
  return {
    write(flush, input, output) {
      failure = undefined;
      engine.writeSync!(flush, input, 0, input.length, output, 0, output.length);
      const [outputLeft, inputLeft] = state;
      if (failure !== undefined || inputLeft !== 0 || outputLeft === 0) {
        engine.reset!();
        throw new Error(failure ?? 'the output did not fit its buffer');
      }
      return output.length - outputLeft!;
    },
    reset() {
      engine.reset!();
    },
  };
}

/**
 * An encoder reused for every frame. One call with the whole input and ZSTD_e_end writes a
 * complete frame with the input's size in its header and leaves the encoder ready for the
 * next frame: byte for byte what zstdCompressSync writes with pledgedSrcSize and an
 * output chunk of the same room. That call is
 * only reachable through the stream's engine; where a Node release lacks it, each frame
 * falls back to zstdCompressSync (same bytes, slower).
 */
export function persistentEncoder(level: number, checksum: boolean): FrameEncoder | undefined {
  const writer = engineWriter(zstdParams(level, checksum));
  if (writer === undefined) return undefined;
  return (input, output) => {
    checkRoom(input, output);
    return writer.write(constants.ZSTD_e_end, input, output);
  };
}

/** A fresh zstdCompressSync per frame, through one output buffer as large as the persistent encoder's. */
export function oneShotEncoder(level: number, checksum: boolean): FrameEncoder {
  return (input, output) => {
    checkRoom(input, output);
    const frame = zstdCompressSync(input, { pledgedSrcSize: input.length, chunkSize: zstdFrameBound(input.length), params: zstdParams(level, checksum) });
    if (frame.length > output.length) throw new Error('the frame did not fit its output buffer');
    output.set(frame);
    return frame.length;
  };
}

const threadEncoders = new Map<string, FrameEncoder>();

/** The encoder this thread keeps for `level` and `checksum` (persistent where Node allows): made once, used for every frame. */
export function threadEncoder(level: number, checksum: boolean): FrameEncoder {
  const key = `${level}/${checksum}`;
  let encoder = threadEncoders.get(key);
  if (encoder === undefined) {
    encoder = persistentEncoder(level, checksum) ?? oneShotEncoder(level, checksum);
    threadEncoders.set(key, encoder);
  }
  return encoder;
}

/**
 * Measures how well each successive piece of a stream compresses in the context of the
 * pieces before it: one zstd stream, flushed after every piece, returning the bytes the
 * piece cost. `reset()` starts a new stream. Undefined where the stream's engine is out
 * of reach (callers then judge pieces one by one).
 */
export function contextSizer(level: number, pieceSize: number): { measure(piece: Uint8Array): number; reset(): void } | undefined {
  const writer = engineWriter({ [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 0 });
  if (writer === undefined) return undefined;
  const room = new Uint8Array(zstdFrameBound(pieceSize) + 64);
  return {
    measure: (piece) => writer.write(constants.ZSTD_e_flush, piece, room),
    reset: () => writer.reset(),
  };
}
