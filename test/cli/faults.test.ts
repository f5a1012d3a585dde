/**
 * Faults lose nothing: a full filesystem, a read-only one, a file in the way of the output
 * directory (a directory in the way of the image: test/cli/json-output.test.ts), SIGTERM in the middle of the write and
 * two builds into the same place at once each end in one clear line (or two complete
 * builds), with nothing partial at the output path. The filesystems are real tmpfs mounts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, exampleToplevel, exampleWithPayload } from '../helpers/example.js';
import { run, runInterrupted, runOk, tempDir, type RunResult } from '../helpers/run.js';

const work = tempDir('faults');
let toplevel = '';
before(() => { toplevel = exampleToplevel('faults'); });
after(() => work.remove());

function build(out: string, format = 'raw-efi'): RunResult {
  return run('node', [CLI, '--toplevel', toplevel, '-f', format, '-o', out]);
}

function errorLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter((l) => l.startsWith('nixos-generate: error:'));
}

/** Every file under `dir`, recursively (directories left out). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

/** A tmpfs of `size` mounted at a new directory for the duration of `body`. */
function withTmpfs(name: string, options: string, body: (dir: string) => void): void {
  const dir = join(work.path, name);
  mkdirSync(dir);
  runOk('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  try {
    body(dir);
  } finally {
    runOk('umount', [dir]);
  }
}

test('a full filesystem fails with one line saying how much was free and how far the image got, and leaves nothing', () => {
  withTmpfs('small', 'size=16m', (dir) => {
    const result = build(join(dir, 'out'));
    assert.equal(result.status, 1, result.stderr);
    const lines = errorLines(result);
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^nixos-generate: error: Cannot write ".*\/out\/nixos\.img": the filesystem is full \(it had 16 MiB free; the image needs more than the 1[5-7] MiB written before it filled\); free space there or choose another place with -o$/);
    assert.equal(result.stdout, '');
    assert.deepEqual(filesUnder(dir), []);
  });
});

test('a read-only output directory is one line before anything is written', () => {
  withTmpfs('readonly', 'ro,size=16m', (dir) => {
    const result = build(dir);
    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(errorLines(result), [`nixos-generate: error: Cannot write into "${dir}": it is on a read-only filesystem; choose a writable place with -o`]);
  });
});

test('a file where the output directory goes is one line', () => {
  const file = join(work.path, 'a-file');
  writeFileSync(file, 'not a directory\n');
  const notDirectory = build(join(file, 'out'));
  assert.equal(notDirectory.status, 1, notDirectory.stderr);
  assert.match(errorLines(notDirectory).join('\n'), /^nixos-generate: error: Cannot create the output directory ".*\/a-file\/out": ENOTDIR; choose another place with -o$/);
});

test('SIGTERM during the write stops the build, exits 130 and leaves nothing at the output path', async () => {
  const payload = exampleWithPayload('terminated', 2000, 400);
  const out = join(work.path, 'terminated');
  const { status, stdout, stderr, signalled } = await runInterrupted('node', [CLI, '--toplevel', payload, '-f', 'qcow-efi', '-o', out], /write nixos\.qcow2/, 'SIGTERM');
  assert.ok(signalled, stderr);
  assert.equal(status, 130, stderr);
  assert.equal(stdout, '');
  assert.match(stderr, /nixos-generate: error: Build interrupted by SIGTERM; no partial output was left at the output path/);
  assert.deepEqual(filesUnder(out), []);
});

test('two builds into the same output directory at once both finish, and what is there is one complete build', async () => {
  const out = join(work.path, 'shared');
  const start = (): Promise<number | null> => new Promise((resolve) => {
    spawn('node', [CLI, '--toplevel', toplevel, '-f', 'qcow-efi', '-o', out], { stdio: 'ignore' }).on('close', resolve);
  });
  const statuses = await Promise.all([start(), start()]);
  assert.deepEqual(statuses, [0, 0]);
  assert.deepEqual(readdirSync(out).sort(), ['SHA256SUMS', 'nixos.qcow2']);
  runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
  runOk('qemu-img', ['check', join(out, 'nixos.qcow2')]);
});
