/**
 * Benchmark: nixos-generate's peak memory (qcow-efi) against the closure, varying the
 * number of files at a fixed size and the size at a fixed number of files, so the two
 * can be told apart. File contents are streamed; what a build keeps is metadata.
 *
 *   node dist/bench/memory.js      (writes docs/benchmarks/memory.md)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cpuModel, exampleWithPayload, type Measurement, timed, writeResults } from './example.js';

/** Peak RSS and wall time of one qcow-efi build. */
function measure(toplevel: string, dir: string): Measurement {
  return timed(CLI, ['--toplevel', toplevel, '-f', 'qcow-efi', '-o', dir]);
}

const work = mkdtempSync(join(tmpdir(), 'ngts-bench-memory-'));
try {
  const cases = [
    { axis: 'files', files: 5_000, mebibytes: 512 },
    { axis: 'files', files: 20_000, mebibytes: 512 },
    { axis: 'files', files: 50_000, mebibytes: 512 },
    { axis: 'files', files: 100_000, mebibytes: 512 },
    { axis: 'files', files: 500_000, mebibytes: 512 },
    { axis: 'bytes', files: 20_000, mebibytes: 128 },
    { axis: 'bytes', files: 20_000, mebibytes: 1024 },
    { axis: 'bytes', files: 20_000, mebibytes: 2048 },
  ];
  const rows: string[] = [];
  let baseline: number | undefined;
  for (const c of cases) {
    const toplevel = exampleWithPayload('bench', c.files, c.mebibytes);
    measure(toplevel, join(work, 'warm'));
    const m = measure(toplevel, join(work, 'out'));
    rmSync(join(work, 'out'), { recursive: true, force: true });
    baseline ??= m.peakKiB;
    rows.push(`| ${c.axis} | ${c.files.toLocaleString('en')} | ${c.mebibytes} | ${(m.peakKiB / 1024).toFixed(0)} | ${m.seconds.toFixed(2)} |`);
    process.stderr.write(`${rows.at(-1)}\n`);
  }
  const cpu = cpuModel();
  const lines = [
    '# Peak memory against the closure',
    '',
    'Written by `node dist/bench/memory.js` (`bench/memory.ts`); numbers are from the run below, not edited.',
    '',
    `Machine: ${cpu}. Each row builds a qcow-efi image of the example system plus a synthetic payload`,
    'with `--toplevel`, running the installed command as users do, and reports the peak resident memory of the whole process (GNU time).',
    '',
    '| varied | payload files | payload MiB | peak memory (MiB) | wall time (s) |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    'File contents are streamed from the store into the image and never held. The listing is not',
    'held either: the ext4 writer walks the store three times (plan, inode tables, data) and keeps',
    'about 13 bytes per inode between walks (its block count, whether it is a directory, its',
    'number in its parent directory) plus one entry per hard-linked file; one directory\'s entries',
    'are held while its blocks are made (the payload\'s 100 directories are hashed from 50,000',
    'files on). The rest of the peak is fixed: Node, the SQLite module, the containers\' buffers.',
    '',
  ];
  writeResults('memory', lines);
} finally {
  rmSync(work, { recursive: true, force: true });
}
