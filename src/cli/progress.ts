/**
 * Draws progress on stderr. On a terminal: one line per phase, redrawn in place at most
 * ten times a second, with a bar, bytes done, throughput and time left. Elsewhere (logs,
 * CI): one plain line when a phase starts, nothing per byte.
 */
import type { ProgressEvent } from '../core/progress.js';
import { progressLine } from './progress-line.js';
import { ThroughputMeter } from './throughput.js';
import { formatBytes } from './units.js';

export interface ProgressDisplay {
  step(message: string): void;
  onProgress(event: ProgressEvent): void;
  finish(): void;
}

export interface ProgressDisplayOptions {
  /** Milliseconds, for the redraw limit and the throughput (tests pass a fake clock). */
  readonly now?: () => number;
}

/** At most ten redraws a second: more only costs writes a terminal cannot show. */
export const REDRAW_INTERVAL_MS = 100;

export function progressDisplay(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, options: ProgressDisplayOptions = {}): ProgressDisplay {
  const now = options.now ?? (() => performance.now());
  const live = stream.isTTY === true && env['CI'] === undefined && env['TERM'] !== 'dumb';
  let phase = '';
  let meter = new ThroughputMeter();
  let lastDraw = -Infinity;
  let drawn = false;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[K');
    drawn = false;
  };
  return {
    step(message) {
      clear();
      phase = '';
      stream.write(`nixos-generate: ${message}\n`);
    },
    onProgress(event) {
      if (event.phase !== phase) {
        clear();
        phase = event.phase;
        meter = new ThroughputMeter();
        if (!live) stream.write(`nixos-generate: ${phase} (${formatBytes(event.total)})\n`);
      }
      if (!live) return;
      const at = now();
      if (at - lastDraw < REDRAW_INTERVAL_MS) return;
      lastDraw = at;
      meter.add(at, event.done);
      const line = progressLine({ ...event, bytesPerSecond: meter.rate() }, stream.columns ?? 80);
      stream.write(`\r\x1b[K${line}`);
      drawn = true;
    },
    finish() {
      clear();
      phase = '';
    },
  };
}
