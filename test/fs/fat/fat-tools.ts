/**
 * Test helpers for the FAT writer: materialise images, and read them back with the
 * reference tools (dosfstools, mtools). A missing tool fails the test.
 */
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readWindows, type BlockImage } from '../../../src/core/block-image.js';
import type { DirNode, FileNode, NodeMeta } from '../../../src/fs/tree.js';
import { run } from '../../helpers/run.js';

export const META: NodeMeta = { permissions: 0o644, uid: 0, gid: 0, mtime: 1700000000 };

/** A tree name (UTF-8 bytes, one per character) from a JavaScript string. */
export function treeName(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Writes an image to a sparse file, window by window (untouched windows stay holes). */
export function writeImage(image: BlockImage, path: string): void {
  const windowSize = 1 << 16;
  const fd = openSync(path, 'w');
  try {
    for (const w of readWindows(image, windowSize)) {
      const at = w.index * windowSize;
      const length = Math.min(windowSize, image.size - at);
      let done = 0;
      while (done < length) done += writeSync(fd, w.data, done, length - done, at + done);
    }
    ftruncateSync(fd, image.size);
  } finally {
    closeSync(fd);
  }
}

/** Reads `length` bytes at `offset` of an image without materialising the rest. */
export function readImageRange(image: BlockImage, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const windowSize = 512;
  for (const w of readWindows(image, windowSize)) {
    const start = w.index * windowSize;
    const from = Math.max(start, offset);
    const to = Math.min(start + windowSize, offset + length);
    if (from < to) out.set(w.data.subarray(from - start, to - start), from - offset);
  }
  return out;
}

/** Environment for mtools: no geometry nagging, UTF-8 names, FAT times read as UTC. */
export const MTOOLS_ENV: NodeJS.ProcessEnv = { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C.UTF-8', TZ: 'UTC' };

/** Lines `fsck.fat -n -v` prints for a clean file system; anything else is a finding. */
const FSCK_CLEAN_LINES: readonly RegExp[] = [
  /^fsck\.fat \d/,
  /^Checking we can access the last sector of the filesystem$/,
  /^Boot sector contents:$/,
  /^System ID "[^"]*"$/,
  /^Media byte 0x[0-9a-f]{2} \(.*\)$/,
  /^\s*\d+ bytes per logical sector$/,
  /^\s*\d+ bytes per cluster$/,
  /^\s*\d+ reserved sectors?$/,
  /^First FAT starts at byte \d+ \(sector \d+\)$/,
  /^\s*2 FATs, (12|16|32) bit entries$/,
  /^\s*\d+ bytes per FAT \(= \d+ sectors\)$/,
  /^Root directory starts at byte \d+ \(sector \d+\)$/,
  /^\s*\d+ root directory entries$/,
  /^Root directory start at cluster \d+ \(arbitrary size\)$/,
  /^Data area starts at byte \d+ \(sector \d+\)$/,
  /^\s*\d+ data clusters \(\d+ bytes\)$/,
  /^\d+ sectors\/track, \d+ heads$/,
  /^\s*\d+ hidden sectors$/,
  /^\s*\d+ sectors total$/,
  /^Checking for unused clusters\.$/,
  /^Checking free cluster summary\.$/,
  /^.+: \d+ files, \d+\/\d+ clusters$/,
];
const FSCK_PROBLEM = /differ|wrong|orphan|bad|leaving|warning|invalid|expected|duplicate|unfinished|truncat|share clusters|uninitialized|dirty|lowercase|label|free cluster summary w|beyond|contains a/i;

export interface FsckSummary {
  readonly files: number;
  readonly usedClusters: number;
  readonly dataClusters: number;
  /** The boot sector dump, one line per field. */
  readonly dump: readonly string[];
}

/** Runs `fsck.fat -n -v` and fails unless it exits 0 and prints only clean-run lines. */
export function fsckClean(path: string): FsckSummary {
  const result = run('fsck.fat', ['-n', '-v', path]);
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `fsck.fat exited ${result.status}:\n${output}`);
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines) {
    if (line.endsWith('clusters') && line.includes(': ') && line.includes(' files, ')) continue;
    assert.ok(!FSCK_PROBLEM.test(line), `fsck.fat reported "${line}":\n${output}`);
    assert.ok(FSCK_CLEAN_LINES.some((re) => re.test(line)), `fsck.fat printed an unexpected line "${line}":\n${output}`);
  }
  const summary = /: (\d+) files, (\d+)\/(\d+) clusters/.exec(output);
  assert.ok(summary !== null, `no summary line:\n${output}`);
  const start = lines.findIndex((l) => l === 'Boot sector contents:');
  const end = lines.findIndex((l) => l.startsWith('Checking for unused'));
  return {
    files: Number(summary[1]),
    usedClusters: Number(summary[2]),
    dataClusters: Number(summary[3]),
    dump: lines.slice(start + 1, end),
  };
}

/** `-i` argument for mtools: the image, at a byte offset when it sits in a partition. */
export function mtoolsImage(path: string, offset = 0): string {
  return offset === 0 ? path : `${path}@@${offset}`;
}

/** Copies the whole volume out with mcopy (times preserved) into `outDir`. */
export function extractAll(path: string, outDir: string, offset = 0): void {
  const result = run('mcopy', ['-s', '-n', '-m', '-i', mtoolsImage(path, offset), '::/*', `${outDir}/`], { env: MTOOLS_ENV });
  assert.equal(result.status, 0, `mcopy failed:\n${result.stdout}\n${result.stderr}`);
}

export function fileBytes(node: FileNode): Uint8Array {
  return node.content.kind === 'bytes' ? node.content.bytes : readFileSync(Buffer.from(node.content.path, 'latin1'));
}

/** Expected mtime after a round trip: clamped to 1980..2107, even seconds. */
export function fatRoundedTime(seconds: number): number {
  const min = Date.UTC(1980, 0, 1) / 1000;
  const max = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
  const clamped = Math.min(max, Math.max(min, seconds));
  return clamped - (clamped % 2);
}

export interface CompareOptions {
  /** Also compare file mtimes (mcopy -m keeps them; mtools miscounts days after 2100). */
  readonly mtimes?: boolean;
}

/**
 * Compares an extracted directory with the source tree: the same names in every
 * directory, the same kinds, and identical file bytes. Returns the number of files.
 */
export function compareWithTree(tree: DirNode, hostDir: string, options: CompareOptions = {}): number {
  let files = 0;
  const walk = (node: DirNode, at: string, path: string): void => {
    const expected = [...node.entries.keys()].map((n) => Buffer.from(n, 'latin1').toString('utf8')).sort();
    const actual = readdirSync(at).sort();
    assert.deepEqual(actual, expected, `listing of "${path || '/'}"`);
    for (const [raw, child] of node.entries) {
      const name = Buffer.from(raw, 'latin1').toString('utf8');
      const hostPath = join(at, name);
      const st = statSync(hostPath);
      if (child.kind === 'dir') {
        assert.ok(st.isDirectory(), `"${path}/${name}" should be a directory`);
        walk(child, hostPath, `${path}/${name}`);
      } else if (child.kind === 'file') {
        assert.ok(st.isFile(), `"${path}/${name}" should be a file`);
        assert.equal(st.size, child.size, `size of "${path}/${name}"`);
        const same = Buffer.compare(readFileSync(hostPath), fileBytes(child)) === 0;
        assert.ok(same, `contents of "${path}/${name}" differ`);
        if (options.mtimes === true) {
          assert.equal(Math.floor(st.mtimeMs / 1000), fatRoundedTime(child.mtime), `mtime of "${path}/${name}"`);
        }
        files++;
      }
    }
  };
  walk(tree, hostDir, '');
  return files;
}
