/** The fixed-seed round-trip tests each writer gets in the suite (bench/soak.ts runs any number). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTree, ROUND_TRIP_WRITERS, roundTripSeed, type RoundTripWriter } from './round-trip.js';
import type { TreeShape } from './random-tree.js';
import { tempDir } from './run.js';

/**
 * Seeds every writer runs at a small scale: a large directory of at most 2 % of its limit,
 * no file of 4 GiB (the one large tree has it).
 */
export const SUITE_SEEDS = [1, 2, 3, 4, 5, 6];
const SUITE_SCALE = 0.02;
/** The seed of the one large tree each writer gets. */
const LARGE_SEED = 1000;

/**
 * For each writer: the suite's seeds, and one tree with a directory of `largeDirectory`
 * entries (default the format's limit) and a sparse file of about 4 GiB where it holds one.
 */
export function roundTripTests(names: readonly string[], largeDirectory: Readonly<Record<string, number>> = {}): void {
  for (const name of names) {
    const writer = ROUND_TRIP_WRITERS.find((w) => w.name === name);
    if (writer === undefined) throw new Error(`no round-trip writer ${name}`);
    test(`${name}: ${SUITE_SEEDS.length} random trees round-trip through ${writer.tools}`, async () => {
      for (const seed of SUITE_SEEDS) await checkSeed(writer, seed, { scale: SUITE_SCALE, hugeSparse: false });
    });
    const entries = largeDirectory[name] ?? writer.profile.maxDirectoryEntries;
    const huge = writer.profile.hugeSizes.length > 0;
    test(`${name}: a random tree with a directory of ${entries.toLocaleString('en')} entries${huge ? ' and a sparse file of about 4 GiB' : ''} round-trips`, async () => {
      await checkSeed(writer, LARGE_SEED, { largeDirectory: entries, hugeSparse: huge });
    });
  }
}

async function checkSeed(writer: RoundTripWriter, seed: number, shape: TreeShape): Promise<void> {
  const work = tempDir(`random-${writer.name}`);
  try {
    const result = await roundTripSeed(writer, seed, work.path, shape);
    const replay = `node dist/bench/soak.js --writer ${writer.name} --from ${seed} --seeds 1`;
    assert.deepEqual(result.problems, [], `${writer.name} seed ${seed} (${describeTree(result.summary)}; ${result.settings}); replay: ${replay}`);
  } finally {
    work.remove();
  }
}
