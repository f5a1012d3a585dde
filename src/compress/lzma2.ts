/**
 * Raw LZMA2 through @napi-rs/lzma (the lzma-rust2 encoder, as fast as liblzma's on the
 * same core within a few per cent; docs/formats/compression.md). The .xz framing around
 * it is this project's (xz-container.ts), so the check type, block sizes and dictionary
 * the decoder allocates are chosen here.
 */
import { Lzma2Compressor } from '@napi-rs/lzma';

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
