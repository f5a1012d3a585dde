/**
 * --cache end to end: the iso, the kexec tarball, the lxc tarball and the gzip- and
 * zstd-compressed disk images built with a warm cache are byte for byte the same file as a
 * cold build without it (every store path of a squashfs placed whole from the cache, every
 * other unit, xz blocks, gzip pieces and zstd frames too, found), and the cold build with
 * the cache is the same again. The squashfs formats use a quick zstd level
 * (QUICK_ISO_SQUASHFS): what the cache keeps does not depend on it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, EXAMPLE_NIXPKGS, exampleConfiguration, QUICK_ISO_SQUASHFS, QUICK_NETBOOT_SQUASHFS } from '../helpers/example.js';
import { run, tempDir } from '../helpers/run.js';

const work = tempDir('cache-formats');
after(() => work.remove());

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Builds three times: without the cache, with an empty one, with the warm one; returns the
 * images' sha256 and the warm build's stderr. With `repeatedUnits` the image holds some
 * bytes twice (an ISO's GRUB in /EFI/BOOT and in efi.img, a squashfs block that two store
 * paths share), so the filling build may already find the second copy's units: whether
 * it does depends on whether the first copy was stored before the second was looked up.
 */
function threeBuilds(name: string, source: readonly string[], format: string, repeatedUnits = false): { sums: string[]; warm: string } {
  const cache = join(work.path, `${name}-cache`);
  const build = (out: string, extra: readonly string[]): { path: string; stderr: string } => {
    const result = run('node', [CLI, ...source, '-f', format, '-o', join(work.path, `${name}-${out}`), ...extra]);
    assert.equal(result.status, 0, result.stderr);
    return { path: result.stdout.trim(), stderr: result.stderr };
  };
  const plain = build('plain', []);
  const cold = build('cold', ['--cache', cache]);
  const coldLine = /\nnixos-generate: cache: (?:0 of [1-9][0-9]* store paths placed whole, )?([0-9]+) of ([1-9][0-9]*) compressed units reused from /.exec(cold.stderr);
  assert.ok(coldLine !== null, cold.stderr);
  if (repeatedUnits) assert.ok(Number(coldLine[1]) < Number(coldLine[2]) / 4, cold.stderr);
  else assert.equal(coldLine[1], '0', cold.stderr);
  const warm = build('warm', ['--cache', cache]);
  return { sums: [plain, cold, warm].map((b) => sha256(b.path)), warm: warm.stderr };
}

/** Every store path placed whole from the cache (when the format has a squashfs), and every other unit found. */
function assertAllReused(stderr: string, storePaths: boolean): void {
  const line = /\nnixos-generate: cache: (?:([0-9]+) of ([0-9]+) store paths placed whole, )?([0-9]+) of ([0-9]+) compressed units reused from /.exec(stderr);
  assert.ok(line !== null, stderr);
  const [, placed, paths, hits, units] = line;
  if (storePaths) assert.ok(placed !== undefined && placed === paths && Number(placed) > 0, stderr);
  else assert.equal(paths, undefined, stderr);
  assert.ok(hits === units && Number(hits) > 0, stderr);
}

test('iso: a warm cache gives the bytes of a cold build without it, every store path placed whole from the cache', () => {
  const configuration = exampleConfiguration(work.path, 'iso', 'cache-iso', QUICK_ISO_SQUASHFS);
  const { sums, warm } = threeBuilds('iso', ['-c', configuration, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`], 'iso', true);
  assert.deepEqual(sums, [sums[0], sums[0], sums[0]]);
  assertAllReused(warm, true);
  assert.doesNotMatch(warm, /warning/);
});

test('iso with isoImage.compressImage: a warm cache gives the bytes of a cold build without it, every store path and zstd frame from the cache', () => {
  const configuration = exampleConfiguration(work.path, 'iso-zst', 'cache-iso', `isoImage.compressImage = true;\n  ${QUICK_ISO_SQUASHFS}`);
  const { sums, warm } = threeBuilds('iso-zst', ['-c', configuration, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`], 'iso', true);
  assert.deepEqual(sums, [sums[0], sums[0], sums[0]]);
  assertAllReused(warm, true);
  assert.doesNotMatch(warm, /warning/);
});

test('kexec: a warm cache gives the bytes of a cold build without it, every store path placed whole from the cache', () => {
  const configuration = exampleConfiguration(work.path, 'kexec', 'cache-kexec', QUICK_NETBOOT_SQUASHFS);
  const { sums, warm } = threeBuilds('kexec', ['-c', configuration, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`], 'kexec', true);
  assert.deepEqual(sums, [sums[0], sums[0], sums[0]]);
  assertAllReused(warm, true);
});

test('lxc: a warm cache gives the bytes of a cold build without it, every xz block from the cache', () => {
  const configuration = exampleConfiguration(work.path, 'lxc', 'cache-lxc', '');
  const { sums, warm } = threeBuilds('lxc', ['-c', configuration, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`], 'lxc');
  assert.deepEqual(sums, [sums[0], sums[0], sums[0]]);
  assertAllReused(warm, false);
  assert.doesNotMatch(warm, /warning/);
});

test('do, linode, gce, proxmox and sd-x86_64: a warm cache gives the bytes of a cold build without it, every gzip piece and zstd frame from the cache', () => {
  const formats = ['do', 'linode', 'gce', 'proxmox', 'sd-x86_64'];
  const configuration = exampleConfiguration(work.path, 'disks', 'cache-disks', '');
  const cache = join(work.path, 'disks-cache');
  const build = (out: string, extra: readonly string[]): { paths: string[]; stderr: string } => {
    const result = run('node', [CLI, '-c', configuration, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-f', formats.join(','), '-o', join(work.path, `disks-${out}`), ...extra]);
    assert.equal(result.status, 0, result.stderr);
    const paths = result.stdout.trim().split('\n');
    assert.equal(paths.length, formats.length, result.stdout);
    return { paths, stderr: result.stderr };
  };
  const plain = build('plain', []);
  const cold = build('cold', ['--cache', cache]);
  const warm = build('warm', ['--cache', cache]);
  formats.forEach((format, i) => {
    const sums = [plain, cold, warm].map((b) => sha256(b.paths[i]!));
    assert.deepEqual(sums, [sums[0], sums[0], sums[0]], format);
  });
  assertAllReused(warm.stderr, false);
  assert.doesNotMatch(warm.stderr, /warning/);
});

/** A gzip described span's entry: a compressed unit whose payload starts with the span's CRC-32 and its length (f64, 1 byte to 2 MiB). */
function describedEntries(cache: string): string[] {
  return readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => join(e.parentPath, e.name))
    .filter((path) => {
      const entry = readFileSync(path);
      if (entry.length < 52 + 12 + 1 || entry.subarray(0, 8).toString('latin1') !== 'NGTSUNIT' || entry[8] !== 1) return false;
      const length = entry.readDoubleLE(56);
      return Number.isInteger(length) && length > 0 && length <= 2 << 20;
    });
}

test('do: a described span whose cache entry is damaged is found as it is copied in; the image is made again, the same, with one warning', () => {
  const configuration = exampleConfiguration(work.path, 'do-damaged', 'cache-do-damaged', '');
  const cache = join(work.path, 'do-damaged-cache');
  const build = (out: string): { path: string; stderr: string } => {
    const result = run('node', [CLI, '-c', configuration, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-f', 'do', '-o', join(work.path, `do-damaged-${out}`), '--cache', cache]);
    assert.equal(result.status, 0, result.stderr);
    return { path: result.stdout.trim(), stderr: result.stderr };
  };
  const cold = build('cold');
  const described = describedEntries(cache);
  assert.ok(described.length > 0, 'the do image has described spans in the cache');
  const damaged = readFileSync(described[0]!);
  damaged[damaged.length - 3]! ^= 0x20;
  writeFileSync(described[0]!, damaged);
  const again = build('again');
  assert.equal(sha256(again.path), sha256(cold.path));
  assert.equal(again.stderr.match(/warning: ignored the damaged cache entry/g)?.length, 1, again.stderr);
  assert.ok(again.stderr.includes(described[0]!), again.stderr);
  const warm = build('warm');
  assert.equal(sha256(warm.path), sha256(cold.path));
  assert.doesNotMatch(warm.stderr, /warning/, 'the entry was made again');
});
