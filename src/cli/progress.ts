/** Draws progress on stderr: one updating line on a terminal, plain step lines otherwise. */
import type { ProgressEvent } from '../core/progress.js';

export interface ProgressDisplay {
  step(message: string): void;
  onProgress(event: ProgressEvent): void;
  finish(): void;
}

const MIB = 1 << 20;

export function progressDisplay(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ProgressDisplay {
  const live = stream.isTTY === true && env['CI'] === undefined && env['TERM'] !== 'dumb';
  let phase = '';
  let lastDraw = 0;
  let drawn = false;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[K');
    drawn = false;
  };
  return {
    step(message) {
      clear();
      stream.write(`nixos-generate: ${message}\n`);
    },
    onProgress(event) {
      if (event.phase !== phase) {
        clear();
        phase = event.phase;
        if (!live) stream.write(`nixos-generate: ${phase} (${(event.total / MIB).toFixed(0)} MiB)\n`);
      }
      if (!live) return;
      const now = Date.now();
      if (now - lastDraw < 100 && event.done < event.total) return;
      lastDraw = now;
      const percent = event.total === 0 ? 100 : Math.floor((event.done / event.total) * 100);
      stream.write(`\r\x1b[Knixos-generate: ${phase} ${percent}% (${(event.done / MIB).toFixed(0)}/${(event.total / MIB).toFixed(0)} MiB)`);
      drawn = true;
    },
    finish() {
      clear();
    },
  };
}
