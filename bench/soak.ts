/**
 * Soak run: random trees through every writer that holds files (ext4, FAT, squashfs,
 * ISO 9660, tar, cpio), each checked by its reference tool and read back byte for byte.
 * Stops at the first failing seed and prints how to replay it.
 *
 *   node dist/bench/soak.js [--seeds N] [--from SEED] [--writer NAME]... [--scale X] [--write]
 *
 * --seeds   how many seeds (default 50), starting at --from (default 1)
 * --writer  only these writers (default all)
 * --scale   0..1: share of each format's largest directory a seed may draw (default 1)
 * --write   write the summary into docs/benchmarks/soak.md
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTree, ROUND_TRIP_WRITERS, roundTripSeed } from '../test/helpers/round-trip.js';
import { cpuModel, writeResults } from './example.js';

function parse(argv: readonly string[]): { seeds: number; from: number; writers: string[]; scale: number; write: boolean } {
  const options = { seeds: 50, from: 1, writers: [] as string[], scale: 1, write: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--seeds') options.seeds = Number(value());
    else if (flag === '--from') options.from = Number(value());
    else if (flag === '--writer') options.writers.push(value());
    else if (flag === '--scale') options.scale = Number(value());
    else if (flag === '--write') options.write = true;
    else throw new Error(`unknown option ${flag} (see the header of bench/soak.ts)`);
  }
  const known = ROUND_TRIP_WRITERS.map((w) => w.name);
  for (const w of options.writers) if (!known.includes(w)) throw new Error(`unknown writer ${w}: expected one of ${known.join(', ')}`);
  if (!Number.isInteger(options.seeds) || options.seeds < 1 || !Number.isInteger(options.from)) throw new Error('--seeds and --from take whole numbers');
  return options;
}

const options = parse(process.argv.slice(2));
const writers = ROUND_TRIP_WRITERS.filter((w) => options.writers.length === 0 || options.writers.includes(w.name));
const started = Date.now();
const totals = new Map<string, { seeds: number; files: number; largestDirectory: number; huge: number }>();
let failed = false;
for (let seed = options.from; seed < options.from + options.seeds && !failed; seed++) {
  for (const writer of writers) {
    const work = mkdtempSync(join(tmpdir(), `ngts-soak-${writer.name}-`));
    let keep = false;
    try {
      const result = await roundTripSeed(writer, seed, work, { scale: options.scale });
      const line = `${writer.name} seed ${seed}: ${describeTree(result.summary)}${result.settings === '' ? '' : `; ${result.settings}`}`;
      if (result.problems.length > 0) {
        process.stderr.write(`FAILED ${line}\n${result.problems.map((p) => `  ${p}\n`).join('')}`);
        process.stderr.write(`replay: node dist/bench/soak.js --writer ${writer.name} --from ${seed} --seeds 1 --scale ${options.scale} (files kept in ${work})\n`);
        keep = true;
        failed = true;
        break;
      }
      process.stderr.write(`ok ${line}\n`);
      const total = totals.get(writer.name) ?? { seeds: 0, files: 0, largestDirectory: 0, huge: 0 };
      total.seeds++;
      total.files += result.summary.files;
      total.largestDirectory = Math.max(total.largestDirectory, result.summary.largestDirectory);
      total.huge += result.summary.hugeSparse > 0 ? 1 : 0;
      totals.set(writer.name, total);
    } catch (error) {
      process.stderr.write(`FAILED ${writer.name} seed ${seed}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.stderr.write(`replay: node dist/bench/soak.js --writer ${writer.name} --from ${seed} --seeds 1 --scale ${options.scale} (files kept in ${work})\n`);
      keep = true;
      failed = true;
      break;
    } finally {
      if (!keep) rmSync(work, { recursive: true, force: true });
    }
  }
}
const minutes = (Date.now() - started) / 60_000;
if (!failed && options.write) {
  writeResults('soak', [
    '# Soak run: random trees through every writer',
    '',
    'Written by `node dist/bench/soak.js --write` (`bench/soak.ts`); numbers are from the run below, not edited.',
    '',
    `Machine: ${cpuModel()}. Seeds ${options.from} to ${options.from + options.seeds - 1}, scale ${options.scale}, ${minutes.toFixed(1)} minutes. Each tree was written,`,
    'checked by the reference tool and extracted by the reference reader, and every entry compared',
    'with the source: type, size, bytes, link target, permission bits, and hard-link groups where the reader keeps them.',
    '',
    '| writer | reference tools | seeds passed | files compared | largest directory | trees with a sparse file of about 4 GiB |',
    '|---|---|---:|---:|---:|---:|',
    ...writers.map((w) => {
      const t = totals.get(w.name) ?? { seeds: 0, files: 0, largestDirectory: 0, huge: 0 };
      return `| ${w.name} | ${w.tools} | ${t.seeds} | ${t.files.toLocaleString('en')} | ${t.largestDirectory.toLocaleString('en')} | ${t.huge} |`;
    }),
    '',
  ]);
}
process.stderr.write(`${failed ? 'stopped at the first failure' : 'all seeds passed'} after ${minutes.toFixed(1)} minutes\n`);
process.exitCode = failed ? 1 : 0;
