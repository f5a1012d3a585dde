/**
 * One compressed unit (an xz block, a gzip piece, a zstd frame) through the unit cache
 * (`--cache`): found by the compressor's settings and the SHA-256 of every input its bytes
 * depend on (the chunk, and for gzip the preset dictionary before it), or made and then
 * stored. Either way the bytes are the same; only the time differs.
 */
import { createHash } from 'node:crypto';
import { UnitCache } from '../core/unit-cache.js';

/**
 * The unit's bytes: from `cache` (counted under `kind`; read into `memory`, which the
 * caller gives back once they are written), or from `make`, then stored.
 */
export async function cachedUnit(cache: UnitCache | undefined, kind: string, settings: string,
  inputs: readonly Uint8Array[], make: () => Promise<Uint8Array>, memory: CacheReadMemory): Promise<Uint8Array> {
  if (cache === undefined) return make();
  // Hashed here, before `make` runs (that may hand the input's memory to another thread).
  // Not with WebCrypto on the thread pool: it copies its input on this thread first,
  // which costs more than hashing it (measured: 630 MB of 9 MiB inputs, 1.8 s to hand
  // over against 0.4 s to hash).
  const digests = inputs.map((input) => createHash('sha256').update(input).digest());
  const key = UnitCache.key(settings, Buffer.concat(digests));
  const found = memory.get(cache, key, kind);
  if (found !== undefined) return found;
  const bytes = await make();
  cache.put(key, { kind: 'compressed', bytes });
  return bytes;
}

/**
 * Memory a sink's cache entries are read into, used again once their units are written
 * (the codec's recycle): reading into reused memory is several times faster than into
 * new memory, and a rebuild reads hundreds of MiB of entries.
 */
export class CacheReadMemory {
  private readonly spare: Uint8Array[] = [];
  private readonly lent = new Map<ArrayBufferLike, Uint8Array>();
  private spareBytes = 0;

  /** The compressed bytes `cache` holds under `key`, read into memory lent here; undefined (nothing kept lent) otherwise. */
  get(cache: UnitCache, key: Buffer, kind: string): Uint8Array | undefined {
    let lent: Uint8Array | undefined;
    const unit = cache.get(key, kind, (size) => (lent = this.lend(size)));
    if (unit?.kind === 'compressed') return unit.bytes;
    if (lent !== undefined) this.giveBack(lent);
    return undefined;
  }

  private lend(bytes: number): Uint8Array {
    // The most recently given back first: its memory is the likeliest still in the CPU's caches.
    let at = this.spare.length - 1;
    while (at >= 0 && this.spare[at]!.length < bytes) at--;
    const memory = at < 0 ? new Uint8Array(Math.ceil(bytes / MEMORY_STEP) * MEMORY_STEP) : this.spare.splice(at, 1)[0]!;
    if (at >= 0) this.spareBytes -= memory.length;
    this.lent.set(memory.buffer, memory);
    return memory;
  }

  giveBack(memory: Uint8Array): void {
    if (!this.lent.delete(memory.buffer) || this.spareBytes + memory.length > SPARE_BYTES) return;
    this.spare.push(memory);
    this.spareBytes += memory.length;
  }

  /** Takes back the memory `view` lies in; false when it was not lent. */
  giveBackViewOf(view: Uint8Array): boolean {
    const memory = this.lent.get(view.buffer);
    if (memory === undefined) return false;
    this.giveBack(memory);
    return true;
  }
}

const MEMORY_STEP = 256 << 10;
/** What is kept for reuse at most. */
const SPARE_BYTES = 64 << 20;
