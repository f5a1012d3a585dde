/**
 * Raw container: the image bytes as they are. Windows that hold only zeros are never
 * written, and the file is finally truncated to the image size, so every zero region of
 * at least one window becomes a hole and the output is sparse on filesystems with holes.
 */
import { isAllZero, readWindows, type BlockImage } from '../core/block-image.js';
import type { OutputFile } from '../core/output-file.js';
import { checkpoint, throttledCheckpoint } from '../core/progress.js';
import { progressReporter, type ContainerControl } from './control.js';

const WINDOW = 1 << 20;

/**
 * Writes `image` into `out` as a raw disk image. The caller owns `out`: it commits on
 * success and aborts on failure (including cancellation through `control.signal`).
 */
export async function writeRaw(image: BlockImage, out: OutputFile, control: ContainerControl = {}): Promise<void> {
  const report = progressReporter(control, 'write raw', image.size);
  const step = throttledCheckpoint(control, 64);
  report(0);
  await checkpoint(control);
  for (const window of readWindows(image, WINDOW)) {
    const at = window.index * WINDOW;
    const end = Math.min(image.size, at + WINDOW);
    const data = window.data.subarray(0, end - at);
    if (!isAllZero(data)) out.writeAt(at, data);
    const pause = step();
    if (pause !== undefined) {
      report(end);
      await pause;
    }
  }
  out.truncate(image.size);
  report(image.size);
}
