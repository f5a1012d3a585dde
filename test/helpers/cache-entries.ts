/** The entries a unit cache directory holds, and waiting for work done ahead to land there. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';

/** The cache's entries (no temporary files). */
export function cacheEntries(cacheDir: string): number {
  if (!existsSync(cacheDir)) return 0;
  return readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.tmp-')).length;
}

/** Waits until `cacheDir` holds `count` entries (units a thread made ahead, stored as they come back); fails after 20 s. */
export async function untilCached(cacheDir: string, count: number, what: string): Promise<void> {
  for (let waited = 0; cacheEntries(cacheDir) < count; waited += 20) {
    assert.ok(waited < 20_000, `${cacheEntries(cacheDir)} of ${count} ${what} made ahead after 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
