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
  /** Blocks handed to the thread, by file and offset. */
  private readonly handedOver = new Map<string, TakeBackJob<AheadResult>>();
  /** Every block taken from `sources` so far (handed over, made or dropped). */
  private readonly taken = new Set<string>();
  /** The files still to go through, listed only as blocks are handed over (a fill build lists none beyond its first path). */
  private readonly sources: Iterator<{ readonly path: string; readonly size: number }>[] = [];
  /** The blocks of the file being gone through. */
  private blocks: Iterator<FilePart> | undefined;
  private closed = false;

  constructor(private readonly cache: UnitCache, private readonly codec: BlockCodec, private readonly blockSize: number) {
    this.settings = blockCacheSettings(codec, blockSize);
  }

  /** Queues the whole blocks of `files` (host paths and their listed sizes, listed lazily), after those queued before. */
  anticipate(files: Iterable<{ readonly path: string; readonly size: number }>): void {
    this.sources.push(files[Symbol.iterator]());
    this.hand();
  }

  /**
   * Before the writer stores the block at `offset` of `path`. Made already, or not one to
   * make: nothing to do. Otherwise the writer has caught up with the thread, and its pool
   * compresses faster than the one thread: every block not started yet is taken back, or
   * the writer would wait block by block on the thread (and this one waited for if it is
   * being made).
   */
  async settle(path: string, offset: number): Promise<void> {
    if (this.closed || (this.handedOver.size === 0 && this.blocks === undefined && this.sources.length === 0)) return;
    const key = blockKey(path, offset);
    const job = this.handedOver.get(key);
    if (job === undefined && this.taken.has(key)) return;
    const making = job !== undefined && !job.takeBack();
    this.takeBackAll();
    if (making) await job.done;
    else this.handedOver.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dropSources();
    await this.worker?.close();
  }

  /** Takes back every block the thread has not started (those being made are still stored) and queues nothing more. */
  private takeBackAll(): void {
    this.dropSources();
    for (const [key, job] of this.handedOver) {
      if (job.takeBack()) this.handedOver.delete(key);
    }
  }

  private dropSources(): void {
    this.sources.length = 0;
    this.blocks = undefined;
  }

  /** The next block to hand over, listing the next file when one is done. */
  private nextBlock(): FilePart | undefined {
    for (;;) {
      const block = this.blocks?.next();
      if (block !== undefined && block.done !== true) return block.value;
      this.blocks = undefined;
      const source = this.sources[0];
      if (source === undefined) return undefined;
      const file = source.next();
      if (file.done === true) {
        this.sources.shift();
        continue;
      }
      this.blocks = wholeBlocks(file.value.path, file.value.size, this.blockSize);
    }
  }

  private hand(): void {
    while (this.handedOver.size < HANDED && !this.closed) {
      const part = this.nextBlock();
      if (part === undefined) return;
      const key = blockKey(part.path, part.offset);
      if (this.taken.has(key)) continue;
      this.taken.add(key);
      this.worker ??= new TakeBackWorker(WORKER_URL, 'squashfs.ahead-failed', 'Cannot compress blocks ahead');
      const job = this.worker.run((claim) => ({ ...claim, part, codec: this.codec, settings: this.settings, cacheDirectory: this.cache.directory }),
        (reply) => (reply.key === '' ? undefined : reply));
      this.handedOver.set(key, job);
      void job.done.then((made) => {
        if (made !== undefined) this.cache.put(Buffer.from(made.key, 'hex'), made.stored ? { kind: 'stored' } : { kind: 'compressed', bytes: new Uint8Array(made.bytes) });
      }).finally(() => {
        if (this.handedOver.get(key) === job) this.handedOver.delete(key);
        this.hand();
      });
    }
  }
}

function* wholeBlocks(path: string, size: number, blockSize: number): Generator<FilePart> {
  for (let offset = 0; offset + blockSize <= size; offset += blockSize) yield { path, size, offset, length: blockSize };
}

function blockKey(path: string, offset: number): string {
  return `${offset}\0${path}`;
}
