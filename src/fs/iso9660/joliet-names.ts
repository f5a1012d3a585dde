/**
 * Joliet identifiers (the Joliet specification, Microsoft 1995): UCS-2 big-endian, at most 64
 * characters besides the dot, no version suffix (as xorriso writes them). A longer file name
 * loses the end of its extension first (keeping at least 3 characters), then of its base, as
 * libisofs cuts them.
 */

const MAX_CHARS = 64;
const MIN_EXTENSION = 3;
/** Characters the Joliet specification forbids in identifiers. */
const FORBIDDEN = /[*/:;?\\\u0000-\u001f]/;

/** Tree names are UTF-8 bytes held one per character; Joliet holds UCS-2 code units. */
function decodeName(raw: string): string {
  const text = Buffer.from(raw, 'latin1').toString('utf8');
  let out = '';
  for (const ch of text) out += ch.length > 1 || FORBIDDEN.test(ch) ? '_' : ch;
  return out;
}

export function jolietName(raw: string, directory: boolean): string {
  const name = decodeName(raw);
  if (directory) return name.slice(0, MAX_CHARS);
  const dot = name.lastIndexOf('.');
  if (dot < 0 || dot === name.length - 1) return name.slice(0, MAX_CHARS);
  if (name.length <= MAX_CHARS + 1) return name;
  const base = name.slice(0, dot);
  const extension = name.slice(dot + 1);
  const extensionLength = extension.length > MIN_EXTENSION
    ? (base.length < MAX_CHARS - MIN_EXTENSION ? MAX_CHARS - base.length : MIN_EXTENSION)
    : extension.length;
  return `${base.slice(0, MAX_CHARS - extensionLength)}.${extension.slice(0, extensionLength)}`;
}

export function ucs2(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < text.length; i++) view.setUint16(2 * i, text.charCodeAt(i), false);
  return out;
}

/** Makes the names of one Joliet directory unique by a counter before the extension. */
export function uniqueJolietNames(names: string[]): void {
  const seen = new Map<string, number[]>();
  names.forEach((name, i) => {
    const group = seen.get(name);
    if (group === undefined) seen.set(name, [i]);
    else group.push(i);
  });
  const taken = new Set(names);
  for (const [name, indexes] of seen) {
    if (indexes.length < 2) continue;
    const dot = name.lastIndexOf('.');
    const base = dot > 0 ? name.slice(0, dot) : name;
    const extension = dot > 0 ? name.slice(dot) : '';
    for (let digits = 1; ; digits++) {
      if (indexes.length > 10 ** digits) continue;
      const stem = base.slice(0, Math.max(0, MAX_CHARS - extension.length + (extension === '' ? 0 : 1) - digits));
      const candidates = indexes.map((_, n) => `${stem}${String(n).padStart(digits, '0')}${extension}`);
      if (candidates.some((c) => taken.has(c))) continue;
      indexes.forEach((index, n) => { names[index] = candidates[n]!; taken.add(candidates[n]!); });
      break;
    }
  }
}
