/**
 * Bytes per second over the last few seconds: recent enough that the time left follows a
 * write slowing down (dense data after sparse), long enough not to jump on every draw.
 */
export class ThroughputMeter {
  private readonly windowMs: number;
  private readonly samples: { readonly at: number; readonly done: number }[] = [];

  constructor(windowMs = 5000) {
    this.windowMs = windowMs;
  }

  /** Records `done` bytes at time `at` (milliseconds, any origin). */
  add(at: number, done: number): void {
    this.samples.push({ at, done });
    // Keep one sample at or before the window's start, to measure the whole window.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.windowMs) this.samples.shift();
  }

  /** Bytes per second, or undefined before a quarter of a second has been measured. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < 250) return undefined;
    return ((last.done - first.done) * 1000) / (last.at - first.at);
  }
}
