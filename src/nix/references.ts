/**
 * Store references inside file contents, as Nix finds and as nuke-refs removes them: a
 * store path is referenced wherever the 32 characters of its hash appear.
 */
import { STORE_DIR } from './root-tree.js';

const HASH_LENGTH = 32;

/** The hash part of a store path ("/nix/store/<hash>-<name>"). */
export function storeHash(path: string): string {
  return path.slice(STORE_DIR.length + 1, STORE_DIR.length + 1 + HASH_LENGTH);
}

/** The candidates whose hash appears in `bytes`, as Nix's reference scanner decides (sorted). */
export function scanReferences(bytes: Uint8Array, candidates: Iterable<string>): string[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  return [...new Set(candidates)].filter((path) => text.includes(storeHash(path))).sort();
}

/**
 * nuke-refs: every "<store dir>/<32 hash characters>-" becomes "<store dir>/eee…e-", the
 * length kept, so the file refers to no store path.
 */
export function nukeReferences(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const pattern = new RegExp(`${STORE_DIR.replace(/\//g, '\\/')}\\/[a-z0-9]{${HASH_LENGTH}}-`, 'g');
  if (!pattern.test(text)) return bytes;
  return Buffer.from(text.replace(pattern, `${STORE_DIR}/${'e'.repeat(HASH_LENGTH)}-`), 'latin1');
}
