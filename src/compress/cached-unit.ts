/**
 * One compressed unit (an xz block, a gzip piece, a zstd frame) through the unit cache
 * (`--cache`): found by the compressor's settings and the SHA-256 of every input its bytes
 * depend on (the chunk, and for gzip the preset dictionary before it), or made and then
 * stored. Either way the bytes are the same; only the time differs.
 */
import { createHash } from 'node:crypto';
import { UnitCache } from '../core/unit-cache.js';

/** The unit's bytes: from `cache` (counted under `kind`), or from `make`, then stored. */
export async function cachedUnit(cache: UnitCache | undefined, kind: string, settings: string,
  inputs: readonly Uint8Array[], make: () => Promise<Uint8Array>): Promise<Uint8Array> {
  if (cache === undefined) return make();
  // Hashed before `make` runs: it may hand the input's memory to another thread.
  const digest = createHash('sha256');
  for (const input of inputs) digest.update(`${input.length}:`).update(input);
  const key = UnitCache.key(settings, digest.digest());
  const unit = cache.get(key, kind);
  if (unit?.kind === 'compressed') return unit.bytes;
  const bytes = await make();
  cache.put(key, { kind: 'compressed', bytes });
  return bytes;
}
