/** Shared fixtures for the container tests: seeded data, images, and the qemu-img checks. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bytesSegment, imageFromSegments, type BlockImage, type Segment } from '../../src/core/block-image.js';
import { run, runOk } from '../helpers/run.js';

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function seededBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed | 0) || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Deterministic integers in [0, bound). */
export function seededInts(seed: number): (bound: number) => number {
  let x = (seed | 0) || 0x2545f491;
  return (bound) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % bound;
  };
}

/** Text that deflates well: repeated words. */
export function textBytes(length: number, word = 'nixos '): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = word.charCodeAt(i % word.length);
  return out;
}

/**
 * An image of `size` bytes with `count` random segments of random lengths (up to
 * `maxLength`) at random, unaligned offsets; some are all zeros, some compressible text.
 */
export function randomImage(seed: number, size: number, count: number, maxLength: number): BlockImage {
  const next = seededInts(seed);
  const segments: Segment[] = [];
  const slot = Math.floor(size / count);
  for (let i = 0; i < count; i++) {
    const length = 1 + next(Math.min(maxLength, slot - 1));
    const offset = i * slot + next(slot - length);
    const kind = next(4);
    const bytes = kind === 0 ? new Uint8Array(length) : kind === 1 ? textBytes(length, `w${i} `) : seededBytes(seed * 31 + i, length);
    segments.push(bytesSegment(offset, bytes));
  }
  return imageFromSegments(size, segments);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface Qcow2Verdict {
  readonly checkText: string;
  readonly check: Record<string, unknown>;
  readonly info: Record<string, unknown>;
}

/** Runs `qemu-img check` (text and JSON) and `qemu-img info` and asserts a clean, v3 image. */
export function assertCleanQcow2(path: string, virtualSize: number): Qcow2Verdict {
  const text = run('qemu-img', ['check', '-f', 'qcow2', path]);
  assert.equal(text.status, 0, `qemu-img check exited ${text.status}\n${text.stdout}\n${text.stderr}`);
  assert.match(text.stdout, /No errors were found on the image\./);
  const check = JSON.parse(runOk('qemu-img', ['check', '-f', 'qcow2', '--output=json', path]).stdout) as Record<string, unknown>;
  assert.equal(check['check-errors'], 0);
  assert.equal(check['leaks'], undefined);
  assert.equal(check['corruptions'], undefined);
  const info = JSON.parse(runOk('qemu-img', ['info', '-f', 'qcow2', '--output=json', path]).stdout) as Record<string, unknown>;
  assert.equal(info['virtual-size'], virtualSize);
  const specific = info['format-specific'] as { data: Record<string, unknown> };
  assert.equal(specific.data['compat'], '1.1');
  assert.equal(specific.data['corrupt'], false);
  assert.equal(specific.data['refcount-bits'], 16);
  assert.equal(info['dirty-flag'], false);
  return { checkText: text.stdout, check, info };
}

/** `qemu-img compare -f raw -F qcow2`: exit 0 and "Images are identical." */
export function assertSameContent(rawPath: string, qcow2Path: string): void {
  const result = run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', rawPath, qcow2Path]);
  assert.equal(result.status, 0, `qemu-img compare exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /Images are identical\./);
}
