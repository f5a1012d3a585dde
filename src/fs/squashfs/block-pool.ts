/**
 * A pool of worker threads compressing data blocks, one per core by default. Results come
 * back in any order; the data writer awaits them in submission order, so the output does
 * not depend on the number of threads or on timing.
 */
import { Worker } from 'node:worker_threads';
import { ImageError } from '../../core/errors.js';
import type { BlockCodec } from './codec.js';
import type { BlockJob, BlockReply } from './compress-worker.js';

const WORKER_URL = new URL('./compress-worker.js', import.meta.url);

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (reply: { input: Uint8Array; output: Uint8Array }) => void; reject: (error: unknown) => void }>;
}

export class BlockPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private failure: ImageError | undefined;
  private closed = false;

  constructor(private readonly codec: BlockCodec, private readonly size: number) {}

  /** Compresses `input[0, length)` (the buffer travels to the worker and comes back as `input`). */
  compress(input: Uint8Array, length = input.length): Promise<{ input: Uint8Array; output: Uint8Array }> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const slot = this.leastBusy();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const plain = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? input.buffer as ArrayBuffer : input.slice().buffer;
      const job: BlockJob = { id, codec: this.codec, input: plain, length };
      slot.worker.postMessage(job, [plain]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map(async ({ worker, pending }) => {
      for (const job of pending.values()) job.reject(new ImageError('squashfs.stopped', 'squashfs compression was stopped'));
      pending.clear();
      await worker.terminate();
    }));
  }

  private leastBusy(): Slot {
    if (this.slots.length < this.size) {
      const idle = this.slots.find((slot) => slot.pending.size === 0);
      return idle ?? this.spawn();
    }
    return this.slots.reduce((best, slot) => (slot.pending.size < best.pending.size ? slot : best));
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, pending: new Map() };
    const failAll = (error: ImageError): void => {
      this.failure ??= error;
      for (const job of slot.pending.values()) job.reject(error);
      slot.pending.clear();
    };
    worker.on('message', (reply: BlockReply) => {
      const job = slot.pending.get(reply.id);
      if (job === undefined) return;
      slot.pending.delete(reply.id);
      if ('error' in reply) job.reject(new ImageError('squashfs.compress', `Cannot compress a squashfs block with ${this.codec.name}: ${reply.error}`));
      else job.resolve({ input: new Uint8Array(reply.input), output: reply.output });
    });
    worker.on('error', (error) => failAll(new ImageError('squashfs.compress', `Cannot compress squashfs blocks: the worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.closed) failAll(new ImageError('squashfs.compress', `Cannot compress squashfs blocks: the worker exited with status ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }
}
