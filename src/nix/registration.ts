/**
 * The closure registration Nix prints with `nix-store --dump-db` (and that closureInfo
 * writes): per path, the path, its NAR hash, NAR size, deriver (maybe empty), the number
 * of references, then the references.
 */
import { ImageError } from '../core/errors.js';

export interface PathRegistration {
  readonly path: string;
  /** Normalised to "sha256:<hex>", as Nix stores it in its database. */
  readonly narHash: string;
  readonly narSize: number;
  readonly deriver: string | undefined;
  readonly references: readonly string[];
}

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** Decodes Nix's base-32 (least significant digit last) into bytes. */
export function decodeNixBase32(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let n = 0; n < text.length; n++) {
    const digit = NIX_BASE32.indexOf(text[text.length - n - 1]!);
    if (digit < 0) throw new Error(`invalid base-32 digit in "${text}"`);
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    out[i]! |= (digit << j) & 0xff;
    if (i < size - 1) out[i + 1]! |= digit >> (8 - j);
    else if (digit >> (8 - j) !== 0) throw new Error(`base-32 value "${text}" overflows ${size} bytes`);
  }
  return out;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Accepts hex, Nix base-32 or SRI forms of a SHA-256 and returns "sha256:<hex>". */
export function normaliseNarHash(text: string): string {
  let body = text;
  if (body.startsWith('sha256:')) body = body.slice(7);
  else if (body.startsWith('sha256-')) return `sha256:${hex(Buffer.from(body.slice(7), 'base64'))}`;
  if (/^[0-9a-f]{64}$/.test(body)) return `sha256:${body}`;
  if (/^[0-9a-df-np-sv-z]{52}$/.test(body)) return `sha256:${hex(decodeNixBase32(body, 32))}`;
  throw new Error(`unrecognised NAR hash "${text}"`);
}

export function parseRegistration(text: string, origin: string): PathRegistration[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out: PathRegistration[] = [];
  let i = 0;
  const take = (what: string): string => {
    const line = lines[i++];
    if (line === undefined) {
      throw new ImageError('registration.truncated', `Cannot read the closure registration from ${origin}: it ends where ${what} was expected (line ${i})`);
    }
    return line;
  };
  while (i < lines.length) {
    const path = take('a store path');
    if (path === '') continue;
    try {
      const narHash = normaliseNarHash(take('a NAR hash'));
      const narSize = Number(take('a NAR size'));
      const deriver = take('a deriver');
      const count = Number(take('a reference count'));
      if (!Number.isSafeInteger(narSize) || !Number.isSafeInteger(count)) throw new Error('bad NAR size or reference count');
      const references: string[] = [];
      for (let r = 0; r < count; r++) references.push(take('a reference'));
      out.push({ path, narHash, narSize, deriver: deriver === '' ? undefined : deriver, references });
    } catch (error) {
      if (error instanceof ImageError) throw error;
      throw new ImageError('registration.invalid', `Cannot read the closure registration from ${origin}: record of "${path}": ${(error as Error).message}`);
    }
  }
  return out;
}

/**
 * Formats registrations the way closureInfo's `registration` file has them: no deriver
 * (closureInfo knows none, so nixpkgs' images register none), and every line, the last
 * one included, ending with a newline (`nix-store --load-db` fails with "missing input"
 * on a last line without one).
 */
export function formatRegistration(records: readonly PathRegistration[]): string {
  return records
    .map((r) => `${[r.path, r.narHash, String(r.narSize), '', String(r.references.length), ...r.references].join('\n')}\n`)
    .join('');
}
