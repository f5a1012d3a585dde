/**
 * Rough speed and ratio of the compressing sinks against the usual tools, on the same
 * bytes: gzipSink (level 6, one gzip member deflated in parallel as pigz does) against
 * `gzip -6` and `pigz -6`, zstdSink (level 3) against `zstd -3 -T0`. Each of our outputs is
 * checked to decompress to the input (gzip's also by a reader that takes exactly one
 * member). Prints a table; not a test.
 *
 *   node dist/bench/compression.js [--input FILE] [--size MIB]
 *
 * Without --input, the sample is the first MIB mebibytes (default 512) of the files under
 * /usr (executables, libraries, text, in sorted path order) followed by 1/8 zeros: roughly
 * what the used part of a NixOS disk holds.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync, type Dirent } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSink } from '../src/compress/gzip.js';
import { zstdSink } from '../src/compress/zstd.js';
import type { CompressingSink } from '../src/compress/chunked-sink.js';
import { OutputFile } from '../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../src/core/sink.js';

const MiB = 1 << 20;

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** Regular files under `dir`, depth first, in sorted order. */
function* files(dir: string): Generator<string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

function makeSample(path: string, size: number): void {
  const out = openSync(path, 'w');
  const buffer = new Uint8Array(4 * MiB);
  const dataPart = size - Math.floor(size / 8);
  let written = 0;
  for (const file of files('/usr')) {
    if (written >= dataPart) break;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      continue;
    }
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, dataPart - written), null);
        if (n <= 0) break;
        writeSync(out, buffer, 0, n);
        written += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  buffer.fill(0);
  while (written < size) written += writeSync(out, buffer, 0, Math.min(buffer.length, size - written));
  closeSync(out);
}

interface Row { readonly name: string; readonly seconds: number; readonly bytes: number }

async function ours(name: string, input: string, output: string, make: (target: ByteSink) => CompressingSink): Promise<Row> {
  const started = performance.now();
  const out = OutputFile.create(output);
  const sink = make(outputFileSink(out));
  const fd = openSync(input, 'r');
  const buffer = new Uint8Array(4 * MiB);
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n <= 0) break;
      await sink.write(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  await sink.close();
  out.commit();
  return { name, seconds: (performance.now() - started) / 1000, bytes: statSync(output).size };
}

function tool(name: string, script: string, output: string): Row {
  const started = performance.now();
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${script} failed: ${result.stderr}`);
  return { name, seconds: (performance.now() - started) / 1000, bytes: statSync(output).size };
}

/** Decompresses exactly one gzip member to stdout; fails if anything follows it. */
const FIRST_MEMBER_ONLY = `python3 -c '${[
  'import sys, zlib',
  'd = zlib.decompressobj(31); f = open(sys.argv[1], "rb")',
  'while not d.eof and (b := f.read(1 << 20)): sys.stdout.buffer.write(d.decompress(b))',
  'sys.exit(0 if d.eof and d.unused_data + f.read() == b"" else "not one gzip member")',
].join('\n')}'`;

function check(compressed: string, command: string, input: string): void {
  const same = spawnSync('bash', ['-o', 'pipefail', '-c', `${command} '${compressed}' | cmp - '${input}'`], { encoding: 'utf8' });
  if (same.status !== 0) throw new Error(`${compressed} does not decompress to the input: ${same.stdout}${same.stderr}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ngts-bench-compress-'));
  try {
    let input = argument('--input');
    if (input === undefined) {
      input = join(dir, 'sample');
      makeSample(input, Number(argument('--size') ?? 512) * MiB);
    }
    const size = statSync(input).size;
    spawnSync('cat', [input], { stdio: ['ignore', 'ignore', 'inherit'] }); // warm the page cache
    const rows: Row[] = [];
    const gz = join(dir, 'out.gz');
    const zst = join(dir, 'out.zst');
    rows.push(await ours('gzipSink level 6', input, gz, (t) => gzipSink(t, { level: 6 })));
    check(gz, 'gzip -dc', input);
    check(gz, FIRST_MEMBER_ONLY, input);
    rows.push(tool('gzip -6', `gzip -6 -c '${input}' > '${gz}'`, gz));
    rows.push(tool('pigz -6', `pigz -6 -c '${input}' > '${gz}'`, gz));
    rows.push(await ours('zstdSink level 3', input, zst, (t) => zstdSink(t, { level: 3 })));
    check(zst, 'zstd -q -dc', input);
    rows.push(tool('zstd -3 -T0', `zstd -q -3 -T0 -c '${input}' > '${zst}'`, zst));
    rows.push(tool('zstd -3 (one thread)', `zstd -q -3 -T1 -c '${input}' > '${zst}'`, zst));

    console.log(`${(size / MiB).toFixed(0)} MiB of ${argument('--input') === undefined ? '/usr files + 1/8 zeros' : input}, ${availableParallelism()} cores, node ${process.version}\n`);
    console.log('| compressor | time (s) | MiB/s | ratio | output (MiB) |');
    console.log('|---|---:|---:|---:|---:|');
    for (const row of rows) {
      console.log(`| ${row.name} | ${row.seconds.toFixed(2)} | ${(size / MiB / row.seconds).toFixed(0)} | ${(size / row.bytes).toFixed(3)} | ${(row.bytes / MiB).toFixed(1)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
