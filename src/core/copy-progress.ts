/**
 * How far the copy worker (file-copy-worker.ts) has got, in memory shared with the digest
 * worker (file-digest-worker.ts), which waits there before hashing a range the copy worker
 * writes: the number of the last copy done, whether the copy worker stopped (failed), and
 * whether each recent copy was made.
 */

/** Outcomes kept: the digest thread may fall this many copies behind the copy worker. */
const RECENT = 1 << 16;

export class CopyProgress {
  private readonly view: Int32Array;

  constructor(readonly memory: SharedArrayBuffer = new SharedArrayBuffer(4 * (2 + RECENT))) {
    this.view = new Int32Array(memory);
  }

  /** Records that copy `sequence` is done (made, or not made) and wakes whoever waits for it. */
  publish(sequence: number, made: boolean): void {
    Atomics.store(this.view, 2 + (sequence % RECENT), made ? sequence : -sequence);
    Atomics.store(this.view, 0, sequence);
    Atomics.notify(this.view, 0);
  }

  /** Records that the copy worker is gone: no copy still waited for will be made. */
  stop(): void {
    Atomics.store(this.view, 1, 1);
    Atomics.notify(this.view, 0);
  }

  /** Blocks until copy `sequence` is done; true when it was made. */
  waitFor(sequence: number): boolean {
    for (let done = Atomics.load(this.view, 0); done < sequence; done = Atomics.load(this.view, 0)) {
      if (Atomics.load(this.view, 1) !== 0) return false;
      Atomics.wait(this.view, 0, done);
    }
    const outcome = Atomics.load(this.view, 2 + (sequence % RECENT));
    if (Math.abs(outcome) !== sequence) {
      throw new Error(`copy ${sequence} was overtaken by copy ${Math.abs(outcome)} before it was hashed`);
    }
    return outcome > 0;
  }
}
