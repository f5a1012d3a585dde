/** The last lines on stderr: each image built, its size and the time it took. */
import type { WrittenFile } from '../formats/build.js';
import { formatBytes, formatDuration } from './units.js';

export interface SummaryEntry {
  /** The format, as the user named it. */
  readonly label: string;
  readonly image: WrittenFile;
  /** From the start of the image's evaluation (or planning) to its SHA256SUMS. */
  readonly milliseconds: number;
}

/** "nixos-generate: built raw-efi in 3.1 s: /out/nixos.img (905.0 MiB)", one line per image. */
export function summaryLines(entries: readonly SummaryEntry[]): string {
  return entries.map((e) => `nixos-generate: built ${e.label} in ${formatDuration(e.milliseconds)}: ${e.image.path} (${formatBytes(e.image.size)})\n`).join('');
}
