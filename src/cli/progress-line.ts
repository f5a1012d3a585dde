/**
 * The progress bar drawn on a terminal, as one line that fits the terminal's width (a
 * wrapped line could not be redrawn in place):
 * "nixos-generate: write nixos.img (raw-efi) [#######.......]  45% 408.2/905.0 MiB  85.2 MiB/s  0:06 left".
 */
import { formatBytesOf, formatClock, formatRate } from './units.js';

export interface ProgressSnapshot {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  /** Undefined until there is enough to measure. */
  readonly bytesPerSecond: number | undefined;
}

const PREFIX = 'nixos-generate: ';
const MAX_BAR = 30;
const MIN_BAR = 10;
/** "1023.9 MiB/s" and "--:-- left": the widest rate, and time left below an hour. */
const RATE_WIDTH = 12;
const LEFT_WIDTH = 10;
/** The shortest phase kept beside a bar: about a file name's start. */
const MIN_PHASE = 16;

function bar(fraction: number, width: number): string {
  const filled = Math.floor(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function progressLine(snapshot: ProgressSnapshot, columns: number): string {
  const { phase, done, total, bytesPerSecond } = snapshot;
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const known = bytesPerSecond !== undefined && bytesPerSecond > 0;
  const rate = known ? formatRate(bytesPerSecond) : '-- B/s';
  const left = done >= total ? '0:00 left' : known ? `${formatClock((total - done) / bytesPerSecond)} left` : '--:-- left';
  // Fixed widths, so the bar does not shift while the numbers change.
  const bytes = formatBytesOf(done, total).padStart(formatBytesOf(total, total).length);
  const stats = `${percent} ${bytes}  ${rate.padStart(RATE_WIDTH)}  ${left.padStart(LEFT_WIDTH)}`;
  // The last column stays empty: writing into it makes some terminals wrap.
  const width = Math.max(columns - 1, 20);
  // Room for the phase and the bar, after the prefix, the stats, two spaces and the brackets.
  const free = width - PREFIX.length - stats.length - 4;
  if (free >= phase.length + MIN_BAR) return `${PREFIX}${phase} ${bar(fraction, Math.min(MAX_BAR, free - phase.length))} ${stats}`;
  // Narrower: the phase gives way down to a readable start, then the bar goes, then everything is cut.
  if (free >= MIN_PHASE + MIN_BAR) return `${PREFIX}${shorten(phase, free - MIN_BAR)} ${bar(fraction, MIN_BAR)} ${stats}`;
  return `${PREFIX}${shorten(phase, width - PREFIX.length - stats.length - 1)} ${stats}`.slice(0, width);
}

function shorten(text: string, length: number): string {
  if (text.length <= length) return text;
  return length > 1 ? `${text.slice(0, length - 1)}…` : '';
}
