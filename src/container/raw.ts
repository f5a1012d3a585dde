/**
 * Raw container: the image bytes as they are. Windows that hold only zeros are never
 * written, and the file is finally truncated to the image size, so every zero region of
 * at least one window becomes a hole and the output is sparse on filesystems with holes.
 */
import { readWindows, type BlockImage } from '../core/block-image.js';
import type { OutputFile } from '../core/output-file.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import type { ByteSink } from '../core/sink.js';
import type { FileIdentity } from '../core/described-spans.js';
import { progressEvery, streamImageData } from './image-stream.js';

const WINDOW = 1 << 20;

/**
 * Writes `image` into `out` as a raw disk image. The caller owns `out`: it commits on
 * success and aborts on failure (including cancellation through `control.signal`).
 */
export async function writeRaw(image: BlockImage, out: OutputFile, control: PhasedControl = {}): Promise<void> {
  const report = progressReporter(control, 'write raw', image.size);
  const step = throttledCheckpoint(control, 64);
  report(0);
  await checkpoint(control);
  // Every zero region is declared, skipped windows included, so the output hashes in passing.
  let written = 0;
  for (const window of readWindows(image, WINDOW)) {
    const at = window.index * WINDOW;
    const end = Math.min(image.size, at + WINDOW);
    const data = window.data.subarray(0, end - at);
    out.skipZeros(written, at - written);
    out.writeOrSkipZeros(at, data);
    written = end;
    const pause = step();
    if (pause !== undefined) {
      report(end);
      await pause;
    }
  }
  out.skipZeros(written, image.size - written);
  out.truncate(image.size);
  report(image.size);
}

const ZERO_WINDOW = new Uint8Array(WINDOW);

/**
 * Writes `image` as a raw disk strictly in order to a sequential sink (a compressor): the
 * zero gaps between segments are written as zeros, since a stream has no holes. With
 * `identify`, a sink that takes described spans gets the closure's files as spans
 * (image-stream.ts), and those it has cached are not read.
 */
export async function writeRawStream(image: BlockImage, sink: ByteSink, control: PhasedControl = {}, identify?: FileIdentity): Promise<void> {
  const report = progressReporter(control, 'write raw', image.size);
  report(0);
  await checkpoint(control);
  const moved = progressEvery(control, report);
  await streamImageData(image, sink, identify, 0, image.size, {
    write: (data) => sink.write(data),
    fill: async (from, to) => {
      for (let at = from; at < to; at += WINDOW) {
        await sink.write(ZERO_WINDOW.subarray(0, Math.min(WINDOW, to - at)));
        await moved(Math.min(to, at + WINDOW));
      }
    },
    moved,
  });
  report(image.size);
}
