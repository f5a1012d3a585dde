/** Helpers for the squashfs tests: writing an image, and reading it with squashfs-tools. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OutputFile } from '../../../src/core/output-file.js';
import { writeSquashfs, type SquashfsOptions } from '../../../src/fs/squashfs/index.js';
import type { DirNode } from '../../../src/fs/tree.js';
import { runOk } from '../../helpers/run.js';

/** 2023-11-14 22:13:20 UTC. */
export const EPOCH = 1_700_000_000;
export const EPOCH_LISTED = '2023-11-14 22:13';

export async function writeImage(root: DirNode, path: string, options: Partial<SquashfsOptions> = {}, start = 0): Promise<{ bytes: number; inodes: number }> {
  const out = OutputFile.create(path);
  try {
    const result = await writeSquashfs(root, out, start, { compression: 'zstd', mtime: EPOCH, ...options });
    out.commit();
    return result;
  } catch (error) {
    out.abort();
    throw error;
  }
}

/** `unsquashfs -s` as key/value facts. */
export function superblockFacts(image: string, offset = 0): string {
  return runOk('unsquashfs', ['-s', '-o', String(offset), image]).stdout;
}

export interface ListedEntry {
  readonly mode: string;
  readonly owner: string;
  readonly size: number;
  readonly time: string;
  readonly target: string | undefined;
}

/** `unsquashfs -lln` keyed by path relative to the root ("" is the root). */
export function listImage(image: string, offset = 0): Map<string, ListedEntry> {
  const out = runOk('unsquashfs', ['-lln', '-o', String(offset), image], { env: { ...process.env, TZ: 'UTC' } }).stdout;
  const entries = new Map<string, ListedEntry>();
  for (const line of out.split('\n')) {
    const match = /^(\S{10}) (\d+\/\d+)\s+(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d) squashfs-root(\/.*?)?(?: -> (.*))?$/.exec(line);
    if (match === null) continue;
    // run() reads output as latin1; names are UTF-8 bytes.
    const utf8 = (text: string): string => Buffer.from(text, 'latin1').toString('utf8');
    const path = utf8(match[5] ?? '').replace(/^\//, '');
    entries.set(path, { mode: match[1]!, owner: match[2]!, size: Number(match[3]), time: match[4]!, target: match[6] === undefined ? undefined : utf8(match[6]) });
  }
  return entries;
}

export function extract(image: string, into: string, offset = 0): void {
  runOk('unsquashfs', ['-no-xattrs', '-st', '-o', String(offset), '-d', into, image]);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Deterministic bytes that differ everywhere (incompressible). */
export function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const WORDS = ['store', 'nix', 'derivation', 'closure', 'lib', 'share', 'bin', 'the', 'of', 'and', 'systemd', 'kernel', 'module', 'firmware', 'locale', 'python', 'perl', 'man', 'page', 'config'];

/** Deterministic text-like bytes (compressible as real files are). */
export function prose(length: number, seed: number): Uint8Array {
  const parts: string[] = [];
  let x = (seed * 2654435761) >>> 0;
  let size = 0;
  while (size < length) {
    x = (x * 1664525 + 1013904223) >>> 0;
    const word = `${WORDS[x % WORDS.length]!}${(x >>> 20) % 7 === 0 ? (x >>> 8) % 1000 : ''}${(x >>> 16) % 11 === 0 ? '\n' : ' '}`;
    parts.push(word);
    size += word.length;
  }
  return new TextEncoder().encode(parts.join('').slice(0, length));
}
