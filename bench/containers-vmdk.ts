/**
 * Rough speed comparison of the VMDK, OVA, Vagrant box and GCE writers against the usual
 * tools on the same disk image: `qemu-img convert -O vmdk` (both subformats) and
 * `tar -S | gzip -6` (and `pigz -6` when installed). Not a test; prints a table.
 *
 *   node dist/bench/containers-vmdk.js [--data-mib N] [--disk-gib N]
 *
 * The image is a sparse disk whose data segments are real files from /usr (binaries,
 * libraries, text), so the data compresses like a system closure does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockImage, Segment } from '../src/core/block-image.js';
import { OutputFile } from '../src/core/output-file.js';
import { writeGceTarball } from '../src/container/gce.js';
import { writeOva } from '../src/container/ova.js';
import { writeRaw } from '../src/container/raw.js';
import { writeVagrantBox } from '../src/container/vagrant-box.js';
import { writeVmdk } from '../src/container/vmdk.js';

const MiB = 1 << 20;

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Regular files under `root`, depth first, sorted, until `limit` bytes. */
function collectFiles(root: string, limit: number): { path: string; size: number }[] {
  const found: { path: string; size: number }[] = [];
  let total = 0;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (total >= limit) return;
      const path = join(dir, name);
      let st;
      try {
        st = statSync(path, { throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (st === undefined) continue;
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && st.size > 0) {
        found.push({ path, size: st.size });
        total += st.size;
      }
    }
  };
  walk(root);
  return found;
}

/** Files placed 4 KiB-aligned from 64 MiB on, with a gap after every tenth, in a disk of `diskSize`. */
function closureImage(files: { path: string; size: number }[], diskSize: number): BlockImage {
  const segments: Segment[] = [];
  let at = 64 * MiB;
  files.forEach((f, i) => {
    if (at + f.size > diskSize) return;
    segments.push({ offset: at, length: f.size, source: { kind: 'file', path: f.path, offset: 0 } });
    at = Math.ceil((at + f.size) / 4096) * 4096 + (i % 10 === 9 ? MiB : 0);
  });
  return { size: diskSize, segments: () => segments };
}

async function timed(label: string, path: string, write: (out: OutputFile) => Promise<void>): Promise<[string, number, number]> {
  const start = process.hrtime.bigint();
  const out = OutputFile.create(path);
  try {
    await write(out);
    out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
  return [label, Number(process.hrtime.bigint() - start) / 1e9, statSync(path).size];
}

function shell(label: string, script: string, output: string): [string, number, number] | undefined {
  const start = process.hrtime.bigint();
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`${label} failed: ${result.stderr}`);
    return undefined;
  }
  return [label, Number(process.hrtime.bigint() - start) / 1e9, statSync(output).size];
}

function has(command: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${command}`]).status === 0;
}

async function main(): Promise<void> {
  const dataMiB = argument('--data-mib', 1024);
  const diskGiB = argument('--disk-gib', 4);
  const work = mkdtempSync(join(tmpdir(), 'ngts-bench-vmdk-'));
  try {
    const files = collectFiles('/usr', dataMiB * MiB);
    const image = closureImage(files, diskGiB * 1024 * MiB);
    const data = [...image.segments()].reduce((s, x) => s + x.length, 0);
    console.log(`disk ${diskGiB} GiB, ${files.length} files, ${(data / MiB).toFixed(0)} MiB of data, ${availableParallelism()} cores, node ${process.version}`);
    const raw = join(work, 'disk.raw');
    const rows: ([string, number, number] | undefined)[] = [];
    rows.push(await timed('ours: raw (reference input for the tools)', raw, (out) => writeRaw(image, out)));
    // Warm the page cache for both sides.
    spawnSync('bash', ['-c', `cat ${raw} > /dev/null`]);
    rows.push(await timed('ours: vmdk monolithicSparse', join(work, 'ms.vmdk'), (out) => writeVmdk(image, out, { subformat: 'monolithicSparse', seed: 'bench' })));
    rows.push(shell('qemu-img convert -O vmdk', `qemu-img convert -f raw -O vmdk ${raw} ${work}/q-ms.vmdk`, `${work}/q-ms.vmdk`));
    rows.push(await timed('ours: vmdk streamOptimized', join(work, 'so.vmdk'), (out) => writeVmdk(image, out, { subformat: 'streamOptimized', seed: 'bench' })));
    rows.push(shell('qemu-img convert -O vmdk -o subformat=streamOptimized', `qemu-img convert -f raw -O vmdk -o subformat=streamOptimized ${raw} ${work}/q-so.vmdk`, `${work}/q-so.vmdk`));
    rows.push(await timed('ours: ova', join(work, 'nixos.ova'), (out) => writeOva(image, out, { seed: 'bench', epoch: 1 })));
    rows.push(await timed('ours: vagrant box', join(work, 'nixos.box'), (out) => writeVagrantBox(image, out, { seed: 'bench', epoch: 1 })));
    rows.push(await timed('ours: gce tar.gz (level 6)', join(work, 'gce.raw.tar.gz'), (out) => writeGceTarball(image, out, { epoch: 1 })));
    rows.push(shell('tar -S | gzip -6', `cd ${work} && tar -Sc disk.raw | gzip -6 > gzip.raw.tar.gz`, `${work}/gzip.raw.tar.gz`));
    if (has('pigz')) rows.push(shell('tar -S | pigz -6', `cd ${work} && tar -Sc disk.raw | pigz -6 > pigz.raw.tar.gz`, `${work}/pigz.raw.tar.gz`));
    else console.log('(pigz not installed: skipped)');
    console.log('\n| writer | seconds | output MiB |\n|---|---:|---:|');
    for (const row of rows) if (row !== undefined) console.log(`| ${row[0]} | ${row[1].toFixed(2)} | ${(row[2] / MiB).toFixed(1)} |`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
