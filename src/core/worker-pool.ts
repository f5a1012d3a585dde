/**
 * A pool of worker threads, one per core by default, for the compressors. Jobs go to the
 * least busy worker; replies come back in any order and settle their own promise, so
 * callers that await in submission order get output independent of timing. A worker keeps
 * the process alive only while it has jobs. A worker that fails or exits fails every job
 * after it, with one ImageError naming what was being done.
 */
import { Worker, type Transferable } from 'node:worker_threads';
import { ImageError } from './errors.js';

/** What every job carries: the id its reply answers to. */
export interface PoolJob {
  readonly id: number;
}

/** A reply is either the worker's result for the job or its error message. */
export type PoolReply<Result> = (Result & { readonly id: number }) | { readonly id: number; readonly error: string };

export interface WorkerPoolOptions {
  /** The worker module. */
  readonly url: URL;
  /** Workers at most. */
  readonly size: number;
  /** The error code of every failure ("zstd.failed"). */
  readonly errorCode: string;
  /** Begins every failure's message ("Cannot compress with zstd"). */
  readonly action: string;
}

interface Slot<Result> {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (result: Result) => void; reject: (error: unknown) => void }>;
}

export class WorkerPool<Job extends PoolJob, Result> {
  private readonly slots: Slot<Result>[] = [];
  private nextId = 0;
  private closed = false;
  /** Set when a worker died: every later job fails with it. */
  private failure: ImageError | undefined;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Posts the job `build(id)` with `transfer` moved to the worker; resolves with its result. */
  run(build: (id: number) => Job, transfer: readonly Transferable[] = []): Promise<Result> {
    if (this.closed) return Promise.reject(new ImageError(this.options.errorCode, `${this.options.action}: the pool was used after it closed`));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const slot = this.leastBusy();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage(build(id), [...transfer]);
    });
  }

  /** Stops every worker; pending jobs fail with "stopped". */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new ImageError(this.options.errorCode, `${this.options.action}: stopped`);
    await Promise.all(this.slots.map(async ({ worker, pending }) => {
      for (const job of pending.values()) job.reject(stopped);
      pending.clear();
      await worker.terminate();
    }));
    this.slots.length = 0;
  }

  private leastBusy(): Slot<Result> {
    if (this.slots.length < this.options.size) {
      return this.slots.find((slot) => slot.pending.size === 0) ?? this.spawn();
    }
    return this.slots.reduce((best, slot) => (slot.pending.size < best.pending.size ? slot : best));
  }

  private spawn(): Slot<Result> {
    const { url, errorCode, action } = this.options;
    const worker = new Worker(url);
    const slot: Slot<Result> = { worker, pending: new Map() };
    const failAll = (error: ImageError): void => {
      this.failure ??= error;
      for (const job of slot.pending.values()) job.reject(error);
      slot.pending.clear();
    };
    worker.on('message', (reply: PoolReply<Result>) => {
      const job = slot.pending.get(reply.id);
      if (job === undefined) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if ('error' in reply) job.reject(new ImageError(errorCode, `${action}: ${reply.error}`));
      else job.resolve(reply as Result);
    });
    worker.on('error', (error) => failAll(new ImageError(errorCode, `${action}: the worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.closed) failAll(new ImageError(errorCode, `${action}: the worker exited with status ${code}`));
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }
}

/** The memory of `view` to move to a worker: its own buffer when it spans all of it, else a copy. */
export function transferableBuffer(view: Uint8Array): ArrayBuffer {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view.buffer as ArrayBuffer : view.slice().buffer;
}
