/**
 * Primary-tree identifiers as xorriso makes them with -iso-level 3 -full-iso9660-filenames:
 * d-characters only (lower case raised, anything else '_'), files "NAME.EXT;1" with at most
 * 30 characters besides the dot, directories at most 31 characters and no dot. Readers
 * take the real names from Rock Ridge; these only have to be valid and unique.
 */

const FILE_CHARS = 30;
const DIR_CHARS = 31;
/** An extension over 3 characters is cut first when a name is too long, as libisofs does. */
const MIN_EXTENSION = 3;

function dChars(raw: string): string {
  let out = '';
  for (const ch of raw.toUpperCase()) out += /[A-Z0-9_]/.test(ch) ? ch : '_';
  return out;
}

export interface IsoName {
  /** Base and extension, mapped and cut; collisions are resolved on `base`. */
  base: string;
  readonly extension: string;
  readonly directory: boolean;
}

export function isoName(raw: string, directory: boolean): IsoName {
  if (directory) return { base: dChars(raw).slice(0, DIR_CHARS), extension: '', directory };
  const dot = raw.lastIndexOf('.');
  const hasExtension = dot >= 0 && dot < raw.length - 1;
  const base = dChars(hasExtension ? raw.slice(0, dot) : raw.replace(/\.$/, ''));
  const extension = hasExtension ? dChars(raw.slice(dot + 1)) : '';
  if (base.length + extension.length <= FILE_CHARS) return { base, extension, directory };
  const extensionLength = extension.length > MIN_EXTENSION
    ? (base.length < FILE_CHARS - MIN_EXTENSION ? FILE_CHARS - base.length : MIN_EXTENSION)
    : extension.length;
  return { base: base.slice(0, FILE_CHARS - extensionLength), extension: extension.slice(0, extensionLength), directory };
}

/** The identifier as recorded: files always carry the dot and version ";1". */
export function isoIdentifier(name: IsoName): string {
  return name.directory ? name.base : `${name.base}.${name.extension};1`;
}

/** ECMA-119 9.3: by name, then extension, the shorter padded with spaces. */
export function compareIsoNames(a: IsoName, b: IsoName): number {
  const width = Math.max(a.base.length, b.base.length);
  const ab = a.base.padEnd(width, ' ');
  const bb = b.base.padEnd(width, ' ');
  if (ab !== bb) return ab < bb ? -1 : 1;
  const ewidth = Math.max(a.extension.length, b.extension.length);
  const ae = a.extension.padEnd(ewidth, ' ');
  const be = b.extension.padEnd(ewidth, ' ');
  return ae < be ? -1 : ae > be ? 1 : 0;
}

function key(name: IsoName): string {
  return `${name.directory ? 'd' : 'f'}${name.base}.${name.extension}`;
}

/**
 * Makes the names of one directory unique as libisofs does: every member of a clash gets a
 * decimal counter in place of the end of its base ("SAME_NAME0.TXT", "SAME_NAME1.TXT").
 */
export function makeUnique(names: readonly IsoName[], keyOf: (name: IsoName) => string = key): void {
  const groups = new Map<string, IsoName[]>();
  for (const name of names) {
    const k = keyOf(name);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [name]);
    else group.push(name);
  }
  const taken = new Set(groups.keys());
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    for (let digits = 1; ; digits++) {
      const limit = (group[0]!.directory ? DIR_CHARS : FILE_CHARS - group[0]!.extension.length) - digits;
      if (limit < 0) throw new Error('cannot make ISO 9660 names unique');
      const stem = group[0]!.base.slice(0, limit);
      const candidates = group.map((_, i) => `${stem}${String(i).padStart(digits, '0')}`);
      if (group.length > 10 ** digits) continue;
      const candidateKeys = candidates.map((base) => keyOf({ ...group[0]!, base }));
      if (candidateKeys.some((k) => taken.has(k))) continue;
      group.forEach((name, i) => { name.base = candidates[i]!; taken.add(candidateKeys[i]!); });
      break;
    }
  }
}
