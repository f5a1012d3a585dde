/**
 * One zstd frame of raw (stored) blocks, for data that is compressed already: the kexec
 * ramdisk, a cpio around the squashfs of the store. The kernel's initramfs unpacker needs
 * the archive in one frame, and a frame compressed for real is a chain (each block's
 * output depends on the blocks before it), so after one store path changed every byte
 * of it after the change would differ, and so would every xz block of the tarball around
 * it. Raw blocks hold their input as it is, behind a 3-byte header; here each ends where
 * the content says (content-cuts.ts, 32 to 128 KiB), so the same squashfs bytes give the
 * same frame bytes wherever they sit, and the tarball's xz blocks after a change are the
 * same again.
 *
 * The frame: magic, a header with a 128 KiB window and neither content size nor checksum
 * (the size is not known until the end), then the blocks, the last one flagged.
 */
import { ImageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import type { CompressingSink } from './chunked-sink.js';
import { ContentCuts } from './content-cuts.js';

/** The largest block zstd allows, and the window that allows it. */
const BLOCK_MAXIMUM = 128 * 1024;
const CUTS = { minimum: 32 * 1024, maximum: BLOCK_MAXIMUM, bits: 15 };
/** Magic (LE), frame header descriptor 0 (no size, no checksum, not single-segment), window 2^17. */
const FRAME_HEADER = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3);
const RAW_BLOCK = 0;

function blockHeader(size: number, last: boolean): Uint8Array {
  const value = (last ? 1 : 0) | (RAW_BLOCK << 1) | (size << 3);
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff);
}

export function zstdStoredFrameSink(target: ByteSink): CompressingSink {
  const cuts = new ContentCuts(CUTS);
  const block = new Uint8Array(BLOCK_MAXIMUM);
  let used = 0;
  /** The block in `block` has ended; it is written once more bytes show it is not the last. */
  let complete = false;
  let position = 0;
  let compressed = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';

  const emit = async (last: boolean): Promise<void> => {
    const head = compressed === 0 ? FRAME_HEADER : new Uint8Array(0);
    const header = blockHeader(used, last);
    const out = new Uint8Array(head.length + header.length + used);
    out.set(head, 0);
    out.set(header, head.length);
    out.set(block.subarray(0, used), head.length + header.length);
    await target.write(out);
    compressed += out.length;
    used = 0;
    complete = false;
  };
  const check = (): void => {
    if (state !== 'open') throw new ImageError('compress.closed', `Internal error: write to a zstd sink after it was ${state}`);
  };

  return {
    get position() {
      return position;
    },
    get compressedPosition() {
      return compressed;
    },
    async write(data) {
      check();
      let at = 0;
      while (at < data.length) {
        if (complete) await emit(false);
        let take = Math.min(BLOCK_MAXIMUM - used, data.length - at);
        const cut = cuts.scan(data, at, at + take);
        if (cut !== undefined) {
          take = cut;
          complete = true;
        }
        block.set(data.subarray(at, at + take), used);
        used += take;
        at += take;
        position += take;
      }
    },
    async close() {
      check();
      state = 'closed';
      await emit(true);
      await target.close();
    },
    async abort() {
      state = 'aborted';
    },
  };
}
