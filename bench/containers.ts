/**
 * Benchmark: every container writer against our raw writer for the same plan (the cost
 * of the container on top of the disk) and against `qemu-img convert` from the raw image,
 * and the compressed outputs against gzip, pigz and zstd, in the same run. The disk is a
 * real one: the example system plus a synthetic payload, laid out by the raw format's
 * plan. Our writers read the closure (through the block image); the reference tools read
 * the raw image written first. Every run writes a fresh file after a `sync`, so no run
 * pays for another's writeback or for unlinking the previous output.
 *
 *   node dist/bench/containers.js [--files N] [--mib N] [--runs N] [--disk 1]   (writes docs/benchmarks/containers.md)
 */
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cpuModel, exampleWithPayload, freshOutput, median, numberArg, runShell, runTool, scratchDir, writeResults } from './example.js';
import type { BlockImage } from '../src/core/block-image.js';
import { OutputFile } from '../src/core/output-file.js';
import { outputFileSink, type ByteSink } from '../src/core/sink.js';
import { gzipSink } from '../src/compress/gzip.js';
import { zstdSink } from '../src/compress/zstd.js';
import { writeGceTarball } from '../src/container/gce.js';
import { writeQcow2 } from '../src/container/qcow2.js';
import { writeRaw, writeRawStream } from '../src/container/raw.js';
import { writeVhd } from '../src/container/vhd.js';
import { writeVhdx } from '../src/container/vhdx.js';
import { writeVma } from '../src/container/vma.js';
import { writeVmdk, writeVmdkStream } from '../src/container/vmdk.js';
import { proxmoxQemuServerConf } from '../src/container/proxmox-config.js';
import { buildDiskImage } from '../src/formats/disk-image.js';
import { findDiskFormat } from '../src/formats/registry.js';
import { planForToplevel } from '../src/formats/toplevel-plan.js';
import { queryClosure } from '../src/nix/closure.js';

const MIB = 1 << 20;
async function timed(action: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function toFile(path: string, write: (out: OutputFile) => Promise<void>): Promise<void> {
  const out = OutputFile.create(path);
  await write(out);
  out.commit();
}

async function toStream(path: string, wrap: (target: ByteSink) => ByteSink, write: (sink: ByteSink) => Promise<void>): Promise<void> {
  await toFile(path, async (out) => {
    const target = outputFileSink(out);
    const sink = wrap(target);
    await write(sink);
    // A compressing sink closes its target as well.
    await sink.close();
  });
}

const files = numberArg('--files', 20_000);
const mebibytes = numberArg('--mib', 1024);
const runs = numberArg('--runs', 3);
const work = scratchDir('containers');
try {
  const toplevel = exampleWithPayload('bench-containers', files, mebibytes);
  const closure = await queryClosure(toplevel);
  const plan = planForToplevel(findDiskFormat('raw'), closure);
  const disk = await buildDiskImage(plan, closure, 1);
  const image: BlockImage = disk.image;
  const raw = join(work, 'disk.raw');
  await toFile(raw, (out) => writeRaw(image, out));
  const out = (name: string): string => join(work, name);
  const seed = 'bench';

  interface Reference { readonly name: string; readonly run: () => number; readonly file: string }
  interface Row { readonly what: string; readonly ours: () => Promise<unknown>; readonly oursFile: string; readonly references: readonly Reference[]; readonly container?: true }
  const rows: Row[] = [
    { what: 'raw (sparse)', ours: () => toFile(out('o.raw'), (o) => writeRaw(image, o)), oursFile: out('o.raw'),
      references: [{ name: 'cp --sparse=always', run: () => runTool('cp', ['--sparse=always', raw, out('r.raw')]), file: out('r.raw') }] },
    { what: 'qcow2', container: true, ours: () => toFile(out('o.qcow2'), (o) => writeQcow2(image, o)), oursFile: out('o.qcow2'),
      references: [{ name: 'qemu-img convert -O qcow2', run: () => runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, out('r.qcow2')]), file: out('r.qcow2') }] },
    { what: 'VHD dynamic', container: true, ours: () => toFile(out('o-dyn.vhd'), (o) => writeVhd(image, o, { subformat: 'dynamic', seed, epoch: 1 })), oursFile: out('o-dyn.vhd'),
      references: [{ name: 'qemu-img convert -O vpc', run: () => runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', raw, out('r-dyn.vhd')]), file: out('r-dyn.vhd') }] },
    { what: 'VHD fixed', container: true, ours: () => toFile(out('o-fix.vhd'), (o) => writeVhd(image, o, { subformat: 'fixed', seed, epoch: 1 })), oursFile: out('o-fix.vhd'),
      references: [{ name: 'qemu-img convert -O vpc (fixed)', run: () => runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed,force_size=on', raw, out('r-fix.vhd')]), file: out('r-fix.vhd') }] },
    { what: 'VHDX', container: true, ours: () => toFile(out('o.vhdx'), (o) => writeVhdx(image, o, { seed })), oursFile: out('o.vhdx'),
      references: [{ name: 'qemu-img convert -O vhdx', run: () => runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', raw, out('r.vhdx')]), file: out('r.vhdx') }] },
    { what: 'VMDK monolithicSparse', container: true, ours: () => toFile(out('o.vmdk'), (o) => writeVmdk(image, o, { subformat: 'monolithicSparse', seed })), oursFile: out('o.vmdk'),
      references: [{ name: 'qemu-img convert -O vmdk', run: () => runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', raw, out('r.vmdk')]), file: out('r.vmdk') }] },
    { what: 'VMDK streamOptimized', ours: () => toStream(out('o-s.vmdk'), (t) => t, (s) => writeVmdkStream(image, s, { subformat: 'streamOptimized', seed })), oursFile: out('o-s.vmdk'),
      references: [{ name: 'qemu-img convert -O vmdk (streamOptimized)', run: () => runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, out('r-s.vmdk')]), file: out('r-s.vmdk') }] },
    { what: 'raw + gzip -6', ours: () => toStream(out('o.img.gz'), (t) => gzipSink(t, { level: 6 }), (s) => writeRawStream(image, s)), oursFile: out('o.img.gz'),
      references: [
        { name: 'pigz -6', run: () => runShell(`pigz -6 -c ${raw} > ${out('r-pigz.img.gz')}`), file: out('r-pigz.img.gz') },
      ] },
    { what: 'raw + zstd -3', ours: () => toStream(out('o.img.zst'), (t) => zstdSink(t, { level: 3 }), (s) => writeRawStream(image, s)), oursFile: out('o.img.zst'),
      references: [{ name: 'zstd -3 -T0', run: () => runShell(`zstd -q -3 -T0 -c ${raw} > ${out('r.img.zst')}`), file: out('r.img.zst') }] },
    { what: 'GCE disk.raw.tar.gz', ours: () => toFile(out('o.tar.gz'), (o) => writeGceTarball(image, o, { epoch: 1 })), oursFile: out('o.tar.gz'),
      references: [{ name: 'tar -S | pigz -6', run: () => runShell(`cd ${work} && tar -cS disk.raw | pigz -6 > ${out('r.tar.gz')}`), file: out('r.tar.gz') }] },
    { what: 'Proxmox VMA + zstd', ours: () => toStream(out('o.vma.zst'), (t) => zstdSink(t, { level: 3 }), (s) => writeVma(image, s, { config: proxmoxQemuServerConf({ qemuConf: { name: 'bench' } }), deviceName: 'drive-virtio0', seed, epoch: 1 })), oursFile: out('o.vma.zst'),
      references: [] },
  ];

  const results: string[] = [];
  const size = (file: string): string => ((statSync(file).blocks * 512) / MIB).toFixed(0);
  let rawMedian = 0;
  for (const row of rows) {
    const ours: number[] = [];
    const theirs: number[][] = row.references.map(() => []);
    const runOurs = async (): Promise<void> => {
      freshOutput(row.oursFile);
      ours.push(await timed(row.ours));
    };
    const runReferences = (): void => row.references.forEach((r, k) => {
      freshOutput(r.file);
      theirs[k]!.push(r.run());
    });
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first.
      if (i % 2 === 0) {
        await runOurs();
        runReferences();
      } else {
        runReferences();
        await runOurs();
      }
    }
    if (rawMedian === 0) rawMedian = median(ours);
    const refCell = row.references.length === 0
      ? 'no reference tool in Debian'
      : row.references.map((r, k) => `${r.name}: ${median(theirs[k]!).toFixed(2)} s, ${size(r.file)} MiB`).join('; ');
    const ratio = row.references.length === 0 ? '' : `${(median(ours) / median(theirs[0]!)).toFixed(2)}x`;
    const toRaw = row.container ? `${(median(ours) / rawMedian).toFixed(2)}x` : '';
    results.push(`| ${row.what} | ${median(ours).toFixed(2)} s, ${size(row.oursFile)} MiB | ${toRaw} | ${refCell} | ${ratio} |`);
    process.stderr.write(`${results.at(-1)}\n`);
    // The outputs are measured; free the space (on tmpfs it is memory).
    for (const file of [row.oursFile, ...row.references.map((r) => r.file)]) rmSync(file, { force: true });
  }

  const cpu = cpuModel();
  const lines = [
    '# Container writers against the reference tools',
    '',
    'Written by `node dist/bench/containers.js` (`bench/containers.ts`); numbers are from the run below, not edited.',
    '',
    `Machine: ${cpu}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores. Disk: the raw format's layout of the example system`,
    `plus a payload of ${files.toLocaleString('en')} random files (${mebibytes} MiB; random data does not compress, so`,
    `the compressed rows measure mostly the file system metadata and speed), virtual size ${(image.size / MIB).toFixed(0)} MiB.`,
    `Ours read the closure through the block image; the reference tools read the raw image (in the page cache).`,
    `Outputs go to ${work.startsWith('/dev/shm') ? 'tmpfs (/dev/shm)' : 'the disk'}; every run writes a fresh file after a \`sync\`. Median of ${runs} runs, alternating who goes first. Sizes are allocated MiB.`,
    `"To raw" is the container's time over our raw writer's for the same plan (the target is at most 1.15x).`,
    '',
    '| output | this project | to raw | reference tools | ratio to the first |',
    '|---|---|---:|---|---:|',
    ...results,
    '',
  ];
  writeResults('containers', lines);
} finally {
  rmSync(work, { recursive: true, force: true });
}
