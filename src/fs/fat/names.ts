/**
 * File names on FAT: which names fit an 8.3 entry as they are, which need a VFAT long
 * name, and the unique short alias each long name gets. The rules follow what Windows
 * and the Linux vfat driver do (fatgen103 §7.4 "basis name" and "numeric tail"):
 *
 * - An 8.3 name in upper case (A-Z, 0-9, ! # $ % & ' ( ) - @ ^ _ ` { } ~) is stored as is.
 * - If its base and its extension are each all lower case, it is stored upper case with
 *   the NT case bits set, and no long name (as Windows NT, Linux and mtools do).
 * - Any other name gets a long name plus a short alias: the upper-cased name with spaces
 *   and extra dots removed and other characters replaced by "_", cut to 8.3. If nothing
 *   was lost but case, the alias is that name; otherwise it gets a "~N" tail, N counting
 *   up from 1 to the first alias not used in the directory.
 */
import { ImageError } from '../../core/errors.js';
import { CASE_LOWER_BASE, CASE_LOWER_EXT } from './dir-entry.js';
import { LFN_MAX_UNITS } from './lfn.js';

/** Characters an 8.3 name may hold besides A-Z and 0-9. */
const SHORT_SPECIALS = new Set("!#$%&'()-@^_`{}~");
/** Characters no FAT name may hold (besides controls below 0x20). */
const FORBIDDEN = new Set('"*/:<>?\\|');

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface FatName {
  /** 8 + 3 characters, space padded, upper case. */
  readonly short: string;
  readonly caseFlags: number;
  /** The long name as UTF-16 code units, or undefined when the 8.3 entry says it all. */
  readonly long: Uint16Array | undefined;
}

/**
 * Decodes a tree name (UTF-8 bytes held one per character) and checks that a FAT
 * directory can hold it. `path` names the entry in error messages.
 */
export function decodeTreeName(raw: string, path: string): string {
  let name: string;
  try {
    name = utf8.decode(Uint8Array.from(raw, (c) => c.charCodeAt(0)));
  } catch (error) {
    throw new ImageError('fat.name-encoding', `Cannot store "${path}" on FAT: its name is not valid UTF-8`, {
      hint: 'FAT long names are Unicode; rename the file',
      cause: error,
    });
  }
  const invalid = (why: string): ImageError =>
    new ImageError('fat.name-invalid', `Cannot store "${path}" on FAT: ${why}`, { hint: 'rename the file' });
  if (name === '' || name === '.' || name === '..') throw invalid('the name is empty, "." or ".."');
  for (const ch of name) {
    if (ch.charCodeAt(0) < 0x20 || FORBIDDEN.has(ch)) {
      throw invalid(`the name contains ${JSON.stringify(ch)}, which FAT names cannot hold`);
    }
  }
  if (name.endsWith('.') || name.endsWith(' ')) {
    throw invalid('the name ends with a dot or a space, which FAT drivers drop');
  }
  if (name.length > LFN_MAX_UNITS) {
    throw invalid(`the name is ${name.length} UTF-16 units long, more than the ${LFN_MAX_UNITS} a long name holds`);
  }
  return name;
}

function isShortChar(ch: string): boolean {
  return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || SHORT_SPECIALS.has(ch);
}

function isLower(ch: string): boolean {
  return ch >= 'a' && ch <= 'z';
}

function pad(base: string, ext: string): string {
  return base.padEnd(8, ' ') + ext.padEnd(3, ' ');
}

/**
 * The 8.3 entry for a name that needs no long name, or undefined. Each part may be all
 * upper case or all lower case (recorded in the case bits), not mixed.
 */
export function exactShortName(name: string): { short: string; caseFlags: number } | undefined {
  const dot = name.indexOf('.');
  if (dot !== name.lastIndexOf('.')) return undefined;
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (base.length < 1 || base.length > 8 || ext.length > 3 || (dot >= 0 && ext.length === 0)) return undefined;
  let caseFlags = 0;
  for (const [part, flag] of [[base, CASE_LOWER_BASE], [ext, CASE_LOWER_EXT]] as const) {
    let lower = false;
    let upper = false;
    for (const ch of part) {
      if (isLower(ch)) lower = true;
      else if (isShortChar(ch)) upper ||= ch >= 'A' && ch <= 'Z';
      else return undefined;
    }
    if (lower && upper) return undefined;
    if (lower) caseFlags |= flag;
  }
  return { short: pad(base.toUpperCase(), ext.toUpperCase()), caseFlags };
}

export interface BasisName {
  readonly base: string;
  readonly ext: string;
  /** True when more than case was lost, so the alias needs a numeric tail. */
  readonly lossy: boolean;
}

/** The upper-cased, 8.3-sized approximation of a long name (fatgen103 §7.4). */
export function basisName(name: string): BasisName {
  let lossy = false;
  let rest = name;
  while (rest.startsWith('.')) {
    rest = rest.slice(1);
    lossy = true;
  }
  const dot = rest.lastIndexOf('.');
  const convert = (part: string, limit: number): string => {
    let out = '';
    for (const ch of part) {
      if (ch === ' ' || ch === '.') {
        lossy = true;
        continue;
      }
      const mapped = isLower(ch) ? ch.toUpperCase() : isShortChar(ch) ? ch : '_';
      if (mapped === '_' && ch !== '_') lossy = true;
      if (out.length === limit) {
        lossy = true;
        break;
      }
      out += mapped;
    }
    return out;
  };
  const base = convert(dot < 0 ? rest : rest.slice(0, dot), 8);
  const ext = convert(dot < 0 ? '' : rest.slice(dot + 1), 3);
  if (base === '') return { base: '_', ext, lossy: true };
  return { base, ext, lossy };
}

/** Upper case per code point, as FAT compares names; characters whose upper case is longer stay. */
export function foldCase(name: string): string {
  let out = '';
  for (const ch of name) {
    const up = ch.toUpperCase();
    out += [...up].length === 1 ? up : ch;
  }
  return out;
}

const MAX_TAIL = 999999;

/**
 * Names for every entry of one directory. `names` are decoded names in the order the
 * entries are written; the result is in the same order. Deterministic: exact 8.3 names
 * are reserved first, then lossless aliases, then numeric tails in entry order.
 */
export function assignFatNames(names: readonly string[], dirPath: string): FatName[] {
  const folded = new Map<string, string>();
  for (const name of names) {
    const key = foldCase(name);
    const other = folded.get(key);
    if (other !== undefined) {
      throw new ImageError('fat.name-collision', `Cannot store both "${dirPath}/${other}" and "${dirPath}/${name}" on FAT: FAT names ignore case`, {
        hint: 'rename one of them',
      });
    }
    folded.set(key, name);
  }
  const used = new Set<string>();
  const result: (FatName | undefined)[] = names.map(() => undefined);
  const bases: (BasisName | undefined)[] = names.map(() => undefined);
  names.forEach((name, i) => {
    const exact = exactShortName(name);
    if (exact !== undefined) {
      used.add(exact.short);
      result[i] = { short: exact.short, caseFlags: exact.caseFlags, long: undefined };
    } else {
      bases[i] = basisName(name);
    }
  });
  const longOf = (name: string): Uint16Array => {
    const units = new Uint16Array(name.length);
    for (let k = 0; k < name.length; k++) units[k] = name.charCodeAt(k);
    return units;
  };
  names.forEach((name, i) => {
    const basis = bases[i];
    if (basis === undefined || basis.lossy) return;
    const short = pad(basis.base, basis.ext);
    if (used.has(short)) {
      bases[i] = { ...basis, lossy: true };
      return;
    }
    used.add(short);
    result[i] = { short, caseFlags: 0, long: longOf(name) };
  });
  const nextTail = new Map<string, number>();
  names.forEach((name, i) => {
    const basis = bases[i];
    if (basis === undefined || result[i] !== undefined) return;
    const key = pad(basis.base, basis.ext);
    for (let n = nextTail.get(key) ?? 1; n <= MAX_TAIL; n++) {
      const tail = `~${n}`;
      const short = pad(basis.base.slice(0, 8 - tail.length) + tail, basis.ext);
      if (!used.has(short)) {
        used.add(short);
        nextTail.set(key, n + 1);
        result[i] = { short, caseFlags: 0, long: longOf(name) };
        return;
      }
    }
    throw new ImageError('fat.name-collision', `Cannot find a unique short name for "${dirPath}/${name}": ${MAX_TAIL} aliases of "${key.trim()}" are taken`, {
      hint: 'spread the files over several directories',
    });
  });
  return result.map((r) => r!);
}
