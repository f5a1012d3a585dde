/**
 * Reproducibility by construction: every time comes from SOURCE_DATE_EPOCH and every
 * identifier is derived from a seed, never from the clock or a random source.
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';
import { uuidFromBytes } from './guid.js';

/** Used when SOURCE_DATE_EPOCH is unset: the mtime Nix gives every store file. */
export const DEFAULT_EPOCH = 1;

export function epochFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['SOURCE_DATE_EPOCH'];
  if (raw === undefined || raw === '') return DEFAULT_EPOCH;
  if (!/^\d+$/.test(raw) || Number(raw) > 0xffffffff) {
    throw new UsageError('epoch.invalid', `Cannot use SOURCE_DATE_EPOCH "${raw}": expected whole seconds since 1970 below 2^32`);
  }
  return Number(raw);
}

/** Deterministic bytes for a named role: SHA-256 of "seed:role". */
export function deriveBytes(seed: string, role: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let filled = 0;
  for (let counter = 0; filled < length; counter++) {
    const digest = createHash('sha256').update(`${seed}:${role}:${counter}`).digest();
    const take = Math.min(digest.length, length - filled);
    out.set(digest.subarray(0, take), filled);
    filled += take;
  }
  return out;
}

/** A version-4-shaped UUID (text form) derived from seed and role. */
export function deriveUuid(seed: string, role: string): string {
  const b = deriveBytes(seed, role, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return uuidFromBytes(b).toUpperCase();
}

export function deriveU32(seed: string, role: string): number {
  const b = deriveBytes(seed, role, 4);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
