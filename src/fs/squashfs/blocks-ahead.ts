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
import { AheadQueue, TakeBackWorker } from '../../core/take-back-worker.js';
import type { UnitCache } from '../../core/unit-cache.js';
import type { AheadJob, AheadResult } from './ahead-worker.js';
import { blockCacheSettings, type BlockCodec } from './codec.js';

const WORKER_URL = new URL('./ahead-worker.js', import.meta.url);
/** Blocks handed to the thread at once (a MiB or so each): enough to keep it busy while the writer is busy for a while. */
const HANDED = 64;

export class BlocksAhead {
  private worker: TakeBackWorker<AheadJob, AheadResult> | undefined;
  private readonly settings: string;
  private readonly queue: AheadQueue<FilePart>;

  constructor(private readonly cache: UnitCache, private readonly codec: BlockCodec, private readonly blockSize: number) {
    this.settings = blockCacheSettings(codec, blockSize);
    this.queue = new AheadQueue(HANDED, (part) => blockKey(part.path, part.offset), (part) => {
      this.worker ??= new TakeBackWorker(WORKER_URL, 'squashfs.ahead-failed', 'Cannot compress blocks ahead');
      const job = this.worker.run((claim) => ({ ...claim, part, codec: this.codec, settings: this.settings, cacheDirectory: this.cache.directory }),
        (reply) => (reply.key === '' ? undefined : reply));
      return {
        done: job.done.then((made) => {
          if (made !== undefined) this.cache.put(Buffer.from(made.key, 'hex'), made.stored ? { kind: 'stored' } : { kind: 'compressed', bytes: new Uint8Array(made.bytes) });
          return made;
        }),
        takeBack: job.takeBack,
      };
    });
  }

  /** Queues the whole blocks of `files` (host paths and their listed sizes, listed lazily), after those queued before. */
  anticipate(files: Iterable<{ readonly path: string; readonly size: number }>): void {
    this.queue.add(wholeBlocksOf(files, this.blockSize));
  }

  /**
   * Before the writer stores the block at `offset` of `path`. Made already, or not one to
   * make: nothing to do. Otherwise the writer has caught up with the thread, and its pool
   * compresses faster than the one thread: every block not started yet is taken back, or
   * the writer would wait block by block on the thread (and this one waited for if it is
   * being made).
   */
  settle(path: string, offset: number): Promise<void> {
    return this.queue.settle(blockKey(path, offset));
  }

  async close(): Promise<void> {
    this.queue.stop();
    await this.worker?.close();
  }
}

/** The whole blocks of each file, a file listed only when the blocks before it are taken. */
function* wholeBlocksOf(files: Iterable<{ readonly path: string; readonly size: number }>, blockSize: number): Generator<FilePart> {
  for (const { path, size } of files) {
    for (let offset = 0; offset + blockSize <= size; offset += blockSize) yield { path, size, offset, length: blockSize };
  }
}

function blockKey(path: string, offset: number): string {
  return `${offset}\0${path}`;
}
