/**
 * A rebuild's new blocks first: the whole blocks of the files of store paths the cache has
 * no unit for (a changed path, in a rebuild after one package changed) are read and
 * compressed on a thread of their own, in the order the writer will reach them, while the
 * writer places the unchanged paths from the cache. The writer then finds them in the
 * cache instead of waiting at the changed path for its slowest compressing. Once the
 * writer reaches a block not made yet, it has caught up: the blocks the thread has not
 * started are taken back and compressed by the writer's pool as usual; one being made is
 * waited for. Blocks are keyed as the writer keys them, so the bytes are the same either
 * way.
 */
import type { FilePart } from '../../core/described-spans.js';
import { TakeBackWorker, type TakeBackJob } from '../../core/take-back-worker.js';
import type { UnitCache } from '../../core/unit-cache.js';
import type { AheadJob, AheadResult } from './ahead-worker.js';
import { blockCacheSettings, type BlockCodec } from './codec.js';

const WORKER_URL = new URL('./ahead-worker.js', import.meta.url);
/** Blocks handed to the thread at once (a MiB or so each): enough to keep it busy while the writer is busy for a while. */
const HANDED = 64;

export class BlocksAhead {
  private worker: TakeBackWorker<AheadJob, AheadResult> | undefined;
  private readonly settings: string;
  /** Blocks handed to the thread, or queued here (undefined), by file and offset. */
  private readonly blocks = new Map<string, TakeBackJob<AheadResult> | undefined>();
  private readonly queue: { readonly key: string; readonly part: FilePart }[] = [];
  private handed = 0;
  private closed = false;

  constructor(private readonly cache: UnitCache, private readonly codec: BlockCodec, private readonly blockSize: number) {
    this.settings = blockCacheSettings(codec, blockSize);
  }

  /** Queues the whole blocks of `files` (host paths and their listed sizes), in order. */
  anticipate(files: Iterable<{ readonly path: string; readonly size: number }>): void {
    for (const { path, size } of files) {
      for (let offset = 0; offset + this.blockSize <= size; offset += this.blockSize) {
        const key = blockKey(path, offset);
        if (this.blocks.has(key)) continue;
        this.blocks.set(key, undefined);
        this.queue.push({ key, part: { path, size, offset, length: this.blockSize } });
      }
    }
    this.hand();
  }

  /**
   * Before the writer stores the block at `offset` of `path`. Made already: nothing to do.
   * Otherwise the writer has caught up with the thread, and its pool compresses faster
   * than the one thread: every block not started yet is taken back (and this one waited
   * for if it is being made), or the writer would wait block by block on the thread.
   */
  async settle(path: string, offset: number): Promise<void> {
    if (this.blocks.size === 0) return;
    const key = blockKey(path, offset);
    if (!this.blocks.has(key)) return;
    const job = this.blocks.get(key);
    this.takeBackAll();
    if (job !== undefined && !job.takeBack()) await job.done;
  }

  /** Takes back every block the thread has not started; those being made are still stored. */
  private takeBackAll(): void {
    this.queue.length = 0;
    for (const [key, job] of this.blocks) {
      if (job === undefined || job.takeBack()) this.blocks.delete(key);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await this.worker?.close();
  }

  private hand(): void {
    while (this.handed < HANDED && this.queue.length > 0 && !this.closed) {
      const { key, part } = this.queue.shift()!;
      if (!this.blocks.has(key)) continue; // the writer got there first
      this.worker ??= new TakeBackWorker(WORKER_URL, 'squashfs.ahead-failed', 'Cannot compress blocks ahead');
      const job = this.worker.run((claim) => ({ ...claim, part, codec: this.codec, settings: this.settings, cacheDirectory: this.cache.directory }),
        (reply) => (reply.key === '' ? undefined : reply));
      this.handed++;
      this.blocks.set(key, job);
      void job.done.then((made) => {
        if (made !== undefined) {
          const cacheKey = Buffer.from(made.key, 'hex');
          this.cache.put(cacheKey, made.stored ? { kind: 'stored' } : { kind: 'compressed', bytes: new Uint8Array(made.bytes) });
        }
      }).finally(() => {
        if (this.blocks.get(key) === job) this.blocks.delete(key);
        this.handed--;
        this.hand();
      });
    }
  }
}

function blockKey(path: string, offset: number): string {
  return `${offset}\0${path}`;
}
