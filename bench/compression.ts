/**
 * Benchmark: our gzip and zstd sinks against pigz, gzip and zstd on the same bytes, the
 * same level and the same cores, in the same run. The input is the raw disk of the
 * example system with a payload (what the compressed formats compress), read from one
 * file by everyone; outputs go to fresh files after a `sync`, so no run pays for another's
 * writeback.
 *
 *   node dist/bench/compression.js [--files N] [--mib N] [--runs N] [--disk 1]   (writes docs/benchmarks/compression.md)
 */
import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cpuModel, exampleWithPayload, freshOutput, median, numberArg, runShell, scratchDir, writeResults } from './example.js';
import { gzipSink } from '../src/compress/gzip.js';
import { zstdSink } from '../src/compress/zstd.js';
import type { CompressingSink } from '../src/compress/chunked-sink.js';
import { OutputFile } from '../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../src/core/sink.js';
import { writeRaw } from '../src/container/raw.js';
import { buildDiskImage } from '../src/formats/disk-image.js';
import { findDiskFormat } from '../src/formats/registry.js';
import { planForToplevel } from '../src/formats/toplevel-plan.js';
import { queryClosure } from '../src/nix/closure.js';

const MIB = 1 << 20;
function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Our sink fed the input file in 4 MiB reads, as the raw stream writer feeds it. */
async function ours(input: string, output: string, wrap: (target: ByteSink) => CompressingSink): Promise<number> {
  const start = process.hrtime.bigint();
  const out = OutputFile.create(output);
  const sink = wrap(outputFileSink(out));
  const fd = openSync(input, 'r');
  try {
    const buffer = new Uint8Array(4 * MIB);
    let position = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      await sink.write(buffer.subarray(0, n));
      position += n;
    }
  } finally {
    closeSync(fd);
  }
  await sink.close();
  out.commit();
  return seconds(start);
}

const files = numberArg('--files', 20_000);
const mebibytes = numberArg('--mib', 1024);
const runs = numberArg('--runs', 3);
const cores = availableParallelism();
const work = scratchDir('compression');
try {
  const toplevel = exampleWithPayload('bench-containers', files, mebibytes);
  const closure = await queryClosure(toplevel);
  const disk = await buildDiskImage(planForToplevel(findDiskFormat('raw'), closure), closure, 1);
  const raw = join(work, 'disk.raw');
  const rawOut = OutputFile.create(raw);
  await writeRaw(disk.image, rawOut);
  rawOut.commit();
  // Everyone reads a file without holes, from the page cache.
  runShell(`cp --sparse=never ${raw} ${raw}.full && mv ${raw}.full ${raw} && cat ${raw} > /dev/null`);
  const inputMiB = statSync(raw).size / MIB;
  const out = (name: string): string => join(work, name);

  interface Contender { readonly name: string; readonly file: string; readonly run: () => Promise<number> }
  interface Row { readonly what: string; readonly ours: Contender; readonly references: readonly Contender[] }
  const rows: Row[] = [
    {
      what: 'gzip -6',
      ours: { name: 'gzipSink level 6', file: out('o.gz'), run: () => ours(raw, out('o.gz'), (t) => gzipSink(t, { level: 6 })) },
      references: [
        { name: `pigz -6 -p ${cores}`, file: out('pigz.gz'), run: async () => runShell(`pigz -6 -p ${cores} -c ${raw} > ${out('pigz.gz')}`) },
        { name: 'gzip -6', file: out('gzip.gz'), run: async () => runShell(`gzip -6 -c ${raw} > ${out('gzip.gz')}`) },
      ],
    },
    {
      what: 'zstd -3',
      ours: { name: 'zstdSink level 3', file: out('o.zst'), run: () => ours(raw, out('o.zst'), (t) => zstdSink(t, { level: 3 })) },
      references: [{ name: `zstd -3 -T${cores}`, file: out('ref.zst'), run: async () => runShell(`zstd -q -3 -T${cores} -c ${raw} > ${out('ref.zst')}`) }],
    },
  ];

  const results: string[] = [];
  const size = (file: string): number => statSync(file).size / MIB;
  for (const row of rows) {
    const everyone = [row.ours, ...row.references];
    const times = everyone.map(() => [] as number[]);
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first.
      const order = i % 2 === 0 ? everyone.map((_, k) => k) : everyone.map((_, k) => k).reverse();
      for (const k of order) {
        freshOutput(everyone[k]!.file);
        times[k]!.push(await everyone[k]!.run());
      }
    }
    const [ourTime, ...theirTimes] = times.map((t) => median(t));
    const first = row.references[0]!;
    const timeRatio = ourTime! / theirTimes[0]!;
    const sizeRatio = size(row.ours.file) / size(first.file);
    const refCell = row.references.map((r, k) => `${r.name}: ${theirTimes[k]!.toFixed(2)} s, ${size(r.file).toFixed(1)} MiB`).join('; ');
    results.push(`| ${row.what} | ${ourTime!.toFixed(2)} s, ${size(row.ours.file).toFixed(1)} MiB | ${refCell} | ${timeRatio.toFixed(2)}x | ${((sizeRatio - 1) * 100).toFixed(2)} % |`);
    process.stderr.write(`${results.at(-1)}\n`);
    for (const contender of everyone) rmSync(contender.file, { force: true });
  }

  const cpu = cpuModel();
  const lines = [
    '# Compression against the reference tools',
    '',
    'Written by `node dist/bench/compression.js` (`bench/compression.ts`); numbers are from the run below, not edited.',
    '',
    `Machine: ${cpu}, ${cores} cores; Node ${process.version} (zlib ${process.versions.zlib}, zstd ${process.versions['zstd'] ?? '?'}).`,
    `Input: the raw disk of the example system with a payload of ${files.toLocaleString('en')} random files (${mebibytes} MiB),`,
    `${inputMiB.toFixed(0)} MiB read from one file in the page cache by everyone; each output is a fresh file on ${work.startsWith('/dev/shm') ? 'tmpfs' : 'the disk'} after a \`sync\`.`,
    `Median of ${runs} runs, alternating who goes first. Ratios are ours against the first reference tool.`,
    '',
    '| compression | this project | reference tools | time ratio | size difference |',
    '|---|---|---|---:|---:|',
    ...results,
    '',
  ];
  writeResults('compression', lines);
} finally {
  rmSync(work, { recursive: true, force: true });
}
