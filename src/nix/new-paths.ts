/**
 * The store paths a rebuild brings: those the last build of the same compression with
 * this cache did not have, by a record it left in the cache. Their large files' lone
 * parts are handed to be made ahead before the layout's walk starts
 * (compress/anticipation.ts), so the thread making them starts with the build instead of
 * when the walk reaches them, which is late when the changed path sorts late. The record
 * only guides: one that is missing, stale or from another closure costs time, never bytes.
 */
import { createHash } from 'node:crypto';
import { forEachHostFile } from '../fs/tree.js';
import { HINT_KIND, UnitCache } from '../core/unit-cache.js';

/** Listed first only while they are at most this share of the closure's paths: beyond it the walk reaches them as soon. */
const NEW_SHARE = 0.25;

function recordKey(scope: string): Buffer {
  return UnitCache.key('store paths of the last build 1', createHash('sha256').update(scope).digest());
}

/** The store paths the record under `scope` (the compression and its settings) names, or undefined without one. */
export function recordedStorePaths(cache: UnitCache, scope: string): ReadonlySet<string> | undefined {
  const entry = cache.get(recordKey(scope), HINT_KIND);
  if (entry?.kind !== 'compressed') return undefined;
  return new Set(Buffer.from(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.length).toString('latin1').split('\n'));
}

/** Records `paths` under `scope` for the next build. */
export function recordStorePaths(cache: UnitCache, scope: string, paths: readonly string[]): void {
  cache.put(recordKey(scope), { kind: 'compressed', bytes: Buffer.from([...paths].sort().join('\n'), 'latin1') });
}

/**
 * Tells `onFile` of every file of the paths among `paths` that `recorded` lacks, when it
 * lacks only a few; nothing without a record (a first build: every path is new).
 */
export function listNewStorePaths(paths: readonly string[], recorded: ReadonlySet<string> | undefined, onFile: (hostPath: string, size: number) => void): void {
  if (recorded === undefined) return;
  const fresh = paths.filter((path) => !recorded.has(path));
  if (fresh.length > paths.length * NEW_SHARE) return;
  for (const path of fresh) forEachHostFile(path, onFile);
}
