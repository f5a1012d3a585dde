/**
 * The worker threads compressing data blocks, one per core by default. Results come back
 * in any order; the data writer awaits them in submission order, so the output does not
 * depend on the number of threads or on timing.
 */
import { transferableBuffer, WorkerPool } from '../../core/worker-pool.js';
import type { BlockCodec } from './codec.js';
import type { BlockJob, BlockResult } from './compress-worker.js';

const WORKER_URL = new URL('./compress-worker.js', import.meta.url);

export class BlockPool {
  private readonly pool: WorkerPool<BlockJob, BlockResult>;

  constructor(private readonly codec: BlockCodec, size: number) {
    this.pool = new WorkerPool({ url: WORKER_URL, size, errorCode: 'squashfs.compress', action: `Cannot compress a squashfs block with ${codec.name}` });
  }

  /** Compresses `input[0, length)` (the buffer travels to the worker and comes back as `input`). */
  async compress(input: Uint8Array, length = input.length): Promise<{ input: Uint8Array; output: Uint8Array }> {
    const plain = transferableBuffer(input);
    const reply = await this.pool.run((id) => ({ id, codec: this.codec, input: plain, length }), [plain]);
    return { input: new Uint8Array(reply.input), output: reply.output };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
