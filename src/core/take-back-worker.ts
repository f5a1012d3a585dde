/**
 * One worker thread doing jobs ahead of the caller, each of which the caller can take back
 * until the thread starts it. All jobs are handed over at once (a caller busy for seconds
 * could not hand them over one by one); a word per job in memory shared with the thread
 * says who claimed it first: the thread, which then does it, or the caller, which then
 * does the work itself when it gets there.
 */
import { ImageError } from './errors.js';
import { WorkerPool, type PoolJob } from './worker-pool.js';

/**
 * A job's word: its token times four plus its state. The thread starts it, or the caller
 * takes it back, whichever swaps `queued` first; the token keeps a late call about a job
 * done long ago from touching the next job in its slot.
 */
const CLAIM = { queued: 0, started: 1, takenBack: 2 } as const;
/** Tokens wrap below this, so that token times four plus a state stays an Int32. */
const TOKENS = 1 << 29;
/** Jobs handed over and not yet answered, at most. */
const SLOTS = 256;

/** What every job carries besides its own fields: its claim word and token. */
export interface ClaimedJob extends PoolJob {
  readonly claims: SharedArrayBuffer;
  readonly slot: number;
  readonly token: number;
}

/** In the worker: claims the job; false when the caller took it back first (then do nothing). */
export function claimJob(job: ClaimedJob): boolean {
  const queued = job.token * 4 + CLAIM.queued;
  return Atomics.compareExchange(new Int32Array(job.claims), job.slot, queued, job.token * 4 + CLAIM.started) === queued;
}

/** A job handed to the thread. */
export interface TakeBackJob<Result> {
  /** Its result; undefined when it was taken back or failed (the caller does the work itself). */
  readonly done: Promise<Result | undefined>;
  /** Takes the job back if the thread has not started it: true, and it will not be done; false once started. */
  takeBack(): boolean;
}

export class TakeBackWorker<Job extends ClaimedJob, Result> {
  private readonly pool: WorkerPool<Job, Result>;
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  private readonly free = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i);
  private nextToken = 0;

  /** `url`: the worker module, which answers every job (`claimJob` false: an answer that says so). */
  constructor(url: URL, errorCode: string, action: string) {
    this.pool = new WorkerPool({ url, size: 1, errorCode, action });
  }

  /** Hands over the job `build` makes of its claim word; `accept` turns the reply into the result (undefined: nothing was done). */
  run(build: (claim: Pick<ClaimedJob, 'id' | 'claims' | 'slot' | 'token'>) => Job, accept: (reply: Result) => Result | undefined): TakeBackJob<Result> {
    const slot = this.free.pop();
    if (slot === undefined) throw new ImageError('worker.slots', `Internal error: more than ${SLOTS} jobs handed to a worker at once`);
    const { claims } = this;
    const token = this.nextToken;
    this.nextToken = (token + 1) % TOKENS;
    const queued = token * 4 + CLAIM.queued;
    Atomics.store(claims, slot, queued);
    const done = this.pool.run((id) => build({ id, claims: claims.buffer as SharedArrayBuffer, slot, token }))
      .then(accept, () => undefined)
      .finally(() => this.free.push(slot));
    return { done, takeBack: () => Atomics.compareExchange(claims, slot, queued, token * 4 + CLAIM.takenBack) === queued };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Jobs made ahead of a writer, a bounded number handed over at once, taken in order from
 * sources listed lazily (a source is listed only as its jobs are handed over). The writer
 * settles each unit before it takes it: once it reaches one not made yet, it has caught up
 * with the one thread and does the work faster itself (on all its threads), so every job
 * not started is taken back and nothing more is handed over; one being made is waited for.
 */
export class AheadQueue<Item> {
  /** Jobs handed over, by key. */
  private readonly handedOver = new Map<string, TakeBackJob<unknown>>();
  /** Every key taken from the sources so far (handed over, made, dropped or taken back). */
  private readonly taken = new Set<string>();
  private readonly sources: Iterator<Item>[] = [];
  private closed = false;

  /**
   * `limit`: jobs handed over at once. `start` hands `item` over (undefined: nothing to
   * make); its `done` settles once the result is kept where the writer finds it.
   */
  constructor(private readonly limit: number, private readonly keyOf: (item: Item) => string,
    private readonly start: (item: Item) => TakeBackJob<unknown> | undefined) {}

  /** Queues `items`, listed as they are handed over, after those queued before. */
  add(items: Iterable<Item>): void {
    if (this.closed) return;
    this.sources.push(items[Symbol.iterator]());
    this.hand();
  }

  /**
   * Before the writer takes the unit `key` names. Made already, or never queued: nothing
   * to do. Otherwise (handed over, or still in a source) the writer has caught up: every
   * job not started is taken back, and this one waited for if it is being made.
   */
  async settle(key: string): Promise<void> {
    if (this.handedOver.size === 0 && this.sources.length === 0) return;
    const job = this.handedOver.get(key);
    if (job === undefined && this.taken.has(key)) return;
    const making = job !== undefined && !job.takeBack();
    this.takeBackAll();
    if (making) await job.done;
  }

  /** Hands nothing more over (the jobs handed over go on). */
  stop(): void {
    this.closed = true;
    this.sources.length = 0;
  }

  /** Settles once every job handed over has. */
  async finished(): Promise<void> {
    await Promise.all([...this.handedOver.values()].map((job) => job.done.catch(() => undefined)));
  }

  private takeBackAll(): void {
    this.sources.length = 0;
    for (const [key, job] of this.handedOver) {
      if (job.takeBack()) this.handedOver.delete(key);
    }
  }

  private hand(): void {
    while (this.handedOver.size < this.limit && !this.closed) {
      const source = this.sources[0];
      if (source === undefined) return;
      const next = source.next();
      if (next.done === true) {
        this.sources.shift();
        continue;
      }
      const key = this.keyOf(next.value);
      if (this.taken.has(key)) continue;
      this.taken.add(key);
      const job = this.start(next.value);
      if (job === undefined) continue;
      this.handedOver.set(key, job);
      void job.done.catch(() => undefined).finally(() => {
        if (this.handedOver.get(key) === job) this.handedOver.delete(key);
        this.hand();
      });
    }
  }
}
