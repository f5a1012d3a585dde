/**
 * One compressed unit (an xz block, a gzip piece, a zstd frame) through the unit cache
 * (`--cache`): found by the compressor's settings and the SHA-256 of every input its bytes
 * depend on (the chunk, and for gzip the preset dictionary before it), or made and then
 * stored. Either way the bytes are the same; only the time differs.
 */
import { webcrypto } from 'node:crypto';
import { UnitCache } from '../core/unit-cache.js';

/** The unit's bytes: from `cache` (counted under `kind`), or from `make`, then stored. */
export async function cachedUnit(cache: UnitCache | undefined, kind: string, settings: string,
  inputs: readonly Uint8Array[], make: () => Promise<Uint8Array>): Promise<Uint8Array> {
  if (cache === undefined) return make();
  // Hashed on the thread pool (WebCrypto copies its input first), and before `make` runs:
  // that may hand the input's memory to another thread.
  const digests = await Promise.all(inputs.map((input) => webcrypto.subtle.digest('SHA-256', input)));
  const key = UnitCache.key(settings, Buffer.concat(digests.map((digest) => new Uint8Array(digest))));
  const unit = cache.get(key, kind);
  if (unit?.kind === 'compressed') return unit.bytes;
  const bytes = await make();
  cache.put(key, { kind: 'compressed', bytes });
  return bytes;
}
