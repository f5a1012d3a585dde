/**
 * Seeded random trees on disk, for round trips through every writer, and a byte-safe
 * snapshot to compare a tree with what a reference reader extracted. The same seed and
 * profile give the same tree, so a failing seed can be replayed.
 *
 * Names are handled as bytes throughout: host paths are Buffers, names in snapshots are
 * latin1 strings (one character per byte), so names that are not UTF-8 survive.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync, writeSync } from 'node:fs';

/** What a format can hold; the generator makes nothing outside it. */
export interface TreeProfile {
  /** "bytes": any byte but "/" and NUL, 1 to 255 bytes; "fat": VFAT long names (Unicode, no "*?:<>|\\\"", unique ignoring case). */
  readonly names: 'bytes' | 'fat';
  readonly symlinks: boolean;
  /** Longest symlink target made (at most 4,095, Linux's limit). */
  readonly maxSymlinkBytes: number;
  /** Whether link targets may have empty components ("a//b", "a/"). */
  readonly emptyLinkComponents: boolean;
  readonly hardLinks: boolean;
  /** Store-like and unusual permission bits (setuid, sticky, read-only directories); otherwise 0644/0755. */
  readonly modes: boolean;
  /** Sizes the format's layout cares about: each tree has a file at or next to each, and draws more at those up to 1 MiB. */
  readonly boundaries: readonly number[];
  /** Largest file made (sparse files may be larger when `hugeSparse` is set). */
  readonly maxFileBytes: number;
  /** Sizes of the one sparse file of about 4 GiB a seed may draw (empty: none). */
  readonly hugeSizes: readonly number[];
  /** Most entries in the one large directory a tree may have. */
  readonly maxDirectoryEntries: number;
  /** Deepest nesting. */
  readonly maxDepth: number;
}

/** What a generated tree holds, to print with a failing seed and to count in reports. */
export interface TreeSummary {
  files: number;
  directories: number;
  symlinks: number;
  hardLinks: number;
  bytes: number;
  largestDirectory: number;
  deepest: number;
  hugeSparse: number;
}

/** A small fast PRNG (mulberry32): deterministic across Node versions. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  fill(into: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= into.length; i += 4) {
      const v = (this.next() * 4294967296) >>> 0;
      into[i] = v;
      into[i + 1] = v >>> 8;
      into[i + 2] = v >>> 16;
      into[i + 3] = v >>> 24;
    }
    for (; i < into.length; i++) into[i] = this.int(0, 255);
  }
}

/**
 * Characters FAT long names may hold, weighted toward ASCII. Only the Basic Multilingual
 * Plane: mtools reads each half of a surrogate pair as "_".
 */
const FAT_ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...'!#$%&\'()-@^_`{}~+,;=[] .',
  'é', 'Ü', 'ß', 'ø', 'Ω', 'ж', '日', '本', '€',
];

function randomByteName(random: Random): string {
  const roll = random.next();
  const length = roll < 0.5 ? random.int(1, 12) : roll < 0.8 ? random.int(13, 64) : roll < 0.95 ? random.int(65, 254) : 255;
  let name = '';
  for (let i = 0; i < length; i++) {
    const kind = random.next();
    let byte: number;
    if (kind < 0.7) byte = random.int(0x20, 0x7e);
    else if (kind < 0.8) byte = random.int(1, 0x1f);
    else byte = random.int(0x80, 0xff);
    if (byte === 0x2f) byte = 0x5f;
    name += String.fromCharCode(byte);
  }
  return name === '.' || name === '..' ? `${name}x` : name;
}

function randomFatName(random: Random): string {
  const roll = random.next();
  const length = roll < 0.5 ? random.int(1, 12) : roll < 0.9 ? random.int(13, 60) : random.int(61, 120);
  let name = '';
  for (let i = 0; i < length; i++) name += random.pick(FAT_ALPHABET);
  // FAT drivers drop trailing dots and spaces, so a name never ends with one.
  name = name.replace(/[. ]+$/, '') || 'n';
  // At most 255 UTF-16 units.
  while (name.length > 255) name = name.slice(0, -1);
  return Buffer.from(name, 'utf8').toString('latin1');
}

/** Deepest host path made: under Linux's PATH_MAX of 4,096 with room for a reader's output prefix. */
const MAX_PATH_BYTES = 3500;

/** `name` cut to at most `bytes` bytes, whole characters for FAT names. */
function fitName(profile: TreeProfile, name: string, bytes: number): string {
  if (profile.names !== 'fat') return name.slice(0, bytes);
  let text = Buffer.from(name, 'latin1').toString('utf8');
  while (Buffer.byteLength(text) > bytes) text = [...text].slice(0, -1).join('');
  text = text.replace(/[. ]+$/, '') || 'n';
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** A key two names share when the format cannot tell them apart. */
function nameKey(profile: TreeProfile, name: string): string {
  return profile.names === 'fat' ? Buffer.from(name, 'latin1').toString('utf8').toUpperCase() : name;
}

/** A Buffer path (parent + "/" + byte name). */
function child(parent: Buffer, name: string): Buffer {
  return Buffer.concat([parent, Buffer.from('/'), Buffer.from(name, 'latin1')]);
}

function writeAll(fd: number, data: Uint8Array, at: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, at + done);
}

/** Files larger than this are written sparse (holes with random runs). */
const SPARSE_ABOVE = 1 << 20;

/**
 * A file size: zero, at or next to a boundary, small, or up to the profile's largest.
 * Only boundaries of at most SPARSE_ABOVE are drawn: a tree gets one file at each larger
 * boundary anyway (generateTree), and more of them would only add zeros for the tools
 * to write out (debugfs rdump writes a 128 MiB sparse file in full).
 */
function randomSize(random: Random, profile: TreeProfile): number {
  const roll = random.next();
  if (roll < 0.08) return 0;
  const boundaries = profile.boundaries.filter((b) => b <= SPARSE_ABOVE);
  if (roll < 0.5 && boundaries.length > 0) {
    const boundary = random.pick(boundaries);
    return Math.min(profile.maxFileBytes, Math.max(0, boundary + random.int(-1, 1)));
  }
  if (roll < 0.85) return random.int(1, 5000);
  return random.int(1, Math.min(profile.maxFileBytes, 400_000));
}

/**
 * Writes a file of `size` bytes: random data, or (for large sizes) holes with random
 * runs at the start, around the boundaries it crosses, and at the end.
 */
function writeRandomFile(path: Buffer, size: number, random: Random, boundaries: readonly number[]): void {
  const fd = openSync(path, 'w');
  try {
    if (size <= SPARSE_ABOVE) {
      const data = Buffer.allocUnsafe(size);
      random.fill(data);
      writeAll(fd, data, 0);
      return;
    }
    ftruncateSync(fd, size);
    const marks = [0, size - 1, ...boundaries.filter((b) => b < size), 2 ** 32].filter((b) => b >= 0 && b < size);
    for (const at of marks) {
      const start = Math.max(0, at - random.int(0, 5000));
      const run = Buffer.allocUnsafe(Math.min(size - start, random.int(1, 10_000)));
      random.fill(run);
      writeAll(fd, run, start);
    }
  } finally {
    closeSync(fd);
  }
}

const FILE_MODES = [0o444, 0o555, 0o644, 0o755, 0o4555, 0o2555, 0o600, 0o4755];
const DIRECTORY_MODES = [0o555, 0o755, 0o1777, 0o700, 0o2755];

/** Overrides of what a seed draws, so a fixed seed can be made to cover a case. */
export interface TreeShape {
  /** Bounds the large directory to this share (0..1) of the profile's limit (default 1). */
  readonly scale?: number;
  /** Entries of the large directory, instead of a draw. */
  readonly largeDirectory?: number;
  /** Whether to make the huge sparse file (when the profile has sizes), instead of a draw. */
  readonly hugeSparse?: boolean;
}

/** Makes a random tree under `root` (which must not exist) and returns what it holds. */
export function generateTree(root: string, seed: number, profile: TreeProfile, shape: TreeShape = {}): TreeSummary {
  const random = new Random(seed);
  const summary: TreeSummary = { files: 0, directories: 1, symlinks: 0, hardLinks: 0, bytes: 0, largestDirectory: 0, deepest: 0, hugeSparse: 0 };
  const rootPath = Buffer.from(root);
  mkdirSync(rootPath);
  const files: Buffer[] = [];
  const directories: { path: Buffer; depth: number; names: Set<string> }[] = [{ path: rootPath, depth: 0, names: new Set() }];
  const directoryModes: [Buffer, number][] = [];

  // Host paths stay under PATH_MAX so every reader can extract them.
  const freshName = (into: { path: Buffer; names: Set<string> }): string => {
    const budget = Math.min(255, MAX_PATH_BYTES - into.path.length - 1);
    for (;;) {
      let name = profile.names === 'fat' ? randomFatName(random) : randomByteName(random);
      if (name.length > budget) name = fitName(profile, name, Math.max(budget, 1));
      const key = nameKey(profile, name);
      if (!into.names.has(key)) {
        into.names.add(key);
        return name;
      }
    }
  };

  const addFile = (parent: { path: Buffer; names: Set<string> }, size = randomSize(random, profile)): void => {
    const path = child(parent.path, freshName(parent));
    writeRandomFile(path, size, random, profile.boundaries);
    if (profile.modes) chmodSync(path, random.pick(FILE_MODES));
    files.push(path);
    summary.files++;
    summary.bytes += size;
  };

  // Nested directories: a random shape, with one chain going deep.
  const directoryCount = random.int(3, 40);
  for (let i = 0; i < directoryCount; i++) {
    const parent = random.pick(directories);
    if (parent.depth >= profile.maxDepth) continue;
    const path = child(parent.path, freshName(parent));
    mkdirSync(path);
    directories.push({ path, depth: parent.depth + 1, names: new Set() });
    summary.directories++;
  }
  let deep = directories[0]!;
  const chain = random.int(1, profile.maxDepth);
  for (let depth = 1; depth <= chain; depth++) {
    const path = child(deep.path, freshName(deep));
    mkdirSync(path);
    deep = { path, depth, names: new Set() };
    directories.push(deep);
    summary.directories++;
  }
  summary.deepest = Math.max(...directories.map((d) => d.depth));

  // Files spread over the directories; some directories stay empty.
  const fileCount = random.int(5, 120);
  for (let i = 0; i < fileCount; i++) addFile(random.pick(directories));
  // One of each boundary size, so every seed crosses every boundary.
  const boundaryHome = random.pick(directories);
  for (const boundary of profile.boundaries) {
    if (boundary <= profile.maxFileBytes) addFile(boundaryHome, Math.max(0, boundary + random.int(-1, 1)));
  }

  // One large directory, its size drawn on a log scale up to the profile's limit.
  const largest = Math.floor(profile.maxDirectoryEntries * (shape.scale ?? 1));
  const drawn = Math.min(largest, Math.floor(Math.exp(random.next() * Math.log(largest + 1))));
  const entries = Math.min(profile.maxDirectoryEntries, shape.largeDirectory ?? drawn);
  if (entries > 0) {
    const parent = random.pick(directories);
    const path = child(parent.path, freshName(parent));
    mkdirSync(path);
    summary.directories++;
    const big = { path, names: new Set<string>() };
    for (let i = 0; i < entries; i++) {
      const numbered = `${i}`;
      const name = random.chance(0.5) && !big.names.has(numbered) ? numbered : freshName(big);
      big.names.add(nameKey(profile, name));
      const entry = child(path, name);
      const data = Buffer.allocUnsafe(random.chance(0.9) ? 0 : random.int(1, 300));
      random.fill(data);
      const fd = openSync(entry, 'w');
      writeAll(fd, data, 0);
      closeSync(fd);
      summary.files++;
      summary.bytes += data.length;
    }
    summary.largestDirectory = entries;
  }

  const drawHuge = random.chance(0.5);
  const hugeSize = profile.hugeSizes.length > 0 ? random.pick(profile.hugeSizes) : 0;
  if (hugeSize > 0 && (shape.hugeSparse ?? drawHuge)) {
    addFile(random.pick(directories), hugeSize);
    summary.hugeSparse = hugeSize;
  }

  if (profile.hardLinks && files.length > 0) {
    const links = random.int(1, 8);
    for (let i = 0; i < links; i++) {
      const target = random.pick(files);
      const parent = random.pick(directories);
      linkSync(target, child(parent.path, freshName(parent)));
      summary.hardLinks++;
    }
  }

  if (profile.symlinks) {
    const count = random.int(1, 25);
    for (let i = 0; i < count; i++) {
      const roll = random.next();
      // Around ext4's 60-byte inline limit, at the format's maximum, or anything between.
      const max = profile.maxSymlinkBytes;
      const length = roll < 0.2 ? random.int(59, 61) : roll < 0.3 ? max : roll < 0.6 ? random.int(1, 58) : random.int(62, max - 1);
      let target = '';
      for (let j = 0; j < length; j++) {
        const byte = random.chance(0.1) ? 0x2f : random.chance(0.8) ? random.int(0x20, 0x7e) : random.int(1, 0xff);
        target += String.fromCharCode(byte);
      }
      if (!profile.emptyLinkComponents) target = target.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
      const parent = random.pick(directories);
      symlinkSync(Buffer.from(target, 'latin1'), child(parent.path, freshName(parent)));
      summary.symlinks++;
    }
  }

  if (profile.modes) {
    for (const d of directories.slice(1)) directoryModes.push([d.path, random.pick(DIRECTORY_MODES)]);
    // Applied last: the tree is written by root, but readers may not be.
    for (const [path, mode] of directoryModes) chmodSync(path, mode);
  }
  return summary;
}

export interface SnapshotEntry {
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly size: number;
  /** Digest of file data (holes and zero runs hashed by position only), or the link target. */
  readonly content: string;
  /** Identity of a file's inode, to compare hard-link groups. */
  readonly inode: string;
}

const CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK);
const READ_BUFFER = Buffer.allocUnsafe(CHUNK);

/** Hashes a file's non-zero chunks with their offsets: reading a 4 GiB sparse file costs little. */
export function digestFile(path: Buffer, size: number): string {
  const hash = createHash('sha256');
  hash.update(String(size));
  const buffer = READ_BUFFER;
  const fd = openSync(path, 'r');
  try {
    for (let at = 0; ; ) {
      const n = readSync(fd, buffer, 0, CHUNK, at);
      if (n === 0) break;
      const chunk = buffer.subarray(0, n);
      if (!chunk.equals(ZEROS.subarray(0, n))) {
        hash.update(`@${at}:${n}:`);
        hash.update(chunk);
      }
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Every entry under `root`, keyed by its byte path ("" for the root). */
export function snapshotBytes(root: string): Map<string, SnapshotEntry> {
  const out = new Map<string, SnapshotEntry>();
  const visit = (path: Buffer, rel: string): void => {
    const st = lstatSync(path);
    const inode = `${st.dev}:${st.ino}`;
    if (st.isSymbolicLink()) {
      out.set(rel, { type: 'symlink', mode: st.mode & 0o7777, size: st.size, content: readlinkSync(path, { encoding: 'buffer' }).toString('latin1'), inode });
    } else if (st.isDirectory()) {
      out.set(rel, { type: 'dir', mode: st.mode & 0o7777, size: 0, content: '', inode });
      const names = readdirSync(path, { encoding: 'buffer' }).map((n) => n.toString('latin1')).sort();
      for (const name of names) visit(child(path, name), rel === '' ? name : `${rel}/${name}`);
    } else {
      out.set(rel, { type: 'file', mode: st.mode & 0o7777, size: st.size, content: digestFile(path, st.size), inode });
    }
  };
  visit(Buffer.from(root), '');
  return out;
}

export interface CompareOptions {
  /** Permission bits the reader restores (0 to skip modes). */
  readonly modeMask: number;
  /** Whether the reader restores hard links as links. */
  readonly hardLinks: boolean;
  /** Top-level names the format adds (lost+found). */
  readonly ignore?: readonly string[];
}

/** A printable form of a byte path for messages: bytes as escapes, long paths cut in the middle. */
export function showPath(path: string): string {
  const shown = path.length > 160 ? `${path.slice(0, 40)}…${path.slice(-100)}` : path;
  // eslint-disable-next-line no-control-regex
  return `"${shown.replace(/[\x00-\x1f\x7f-\xff"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

/**
 * Compares two snapshots; returns the differences (empty when the trees match), at most
 * `limit` of them, each one line.
 */
export function compareSnapshots(expected: Map<string, SnapshotEntry>, actual: Map<string, SnapshotEntry>, options: CompareOptions, limit = 10): string[] {
  const problems: string[] = [];
  const ignored = new Set(options.ignore ?? []);
  const keep = (path: string): boolean => !ignored.has(path.split('/')[0]!);
  for (const [path, want] of expected) {
    if (problems.length >= limit) return problems;
    const got = actual.get(path);
    if (got === undefined) {
      problems.push(`${showPath(path)} is missing`);
      continue;
    }
    if (got.type !== want.type) problems.push(`${showPath(path)} is a ${got.type}, expected a ${want.type}`);
    else if (got.size !== want.size && want.type === 'file') problems.push(`${showPath(path)} has ${got.size} bytes, expected ${want.size}`);
    else if (got.content !== want.content) problems.push(`${showPath(path)} has other ${want.type === 'symlink' ? 'target' : 'contents'}`);
    else if (path !== '' && (got.mode & options.modeMask) !== (want.mode & options.modeMask)) {
      problems.push(`${showPath(path)} has mode ${(got.mode & options.modeMask).toString(8)}, expected ${(want.mode & options.modeMask).toString(8)}`);
    }
  }
  for (const path of actual.keys()) {
    if (problems.length >= limit) return problems;
    if (!expected.has(path) && keep(path)) problems.push(`${showPath(path)} was not in the tree`);
  }
  if (options.hardLinks) {
    const groups = (snapshot: Map<string, SnapshotEntry>): string[] => {
      const byInode = new Map<string, string[]>();
      for (const [path, entry] of snapshot) {
        if (entry.type === 'file' && keep(path)) byInode.set(entry.inode, [...(byInode.get(entry.inode) ?? []), path]);
      }
      return [...byInode.values()].filter((g) => g.length > 1).map((g) => g.sort().map(showPath).join(' = ')).sort();
    };
    const want = groups(expected);
    const got = groups(actual);
    for (const group of want) if (!got.includes(group) && problems.length < limit) problems.push(`hard links ${group} are not one file`);
    for (const group of got) if (!want.includes(group) && problems.length < limit) problems.push(`${group} are linked but were separate files`);
  }
  return problems;
}

/** Mode and inode identity of each entry as a format's own tool lists them. */
export type MetadataListing = Map<string, { readonly mode: number; readonly inode: string }>;

/** Compares permission bits (all of them) and hard-link groups with a tool's listing. */
export function compareMetadata(expected: Map<string, SnapshotEntry>, listing: MetadataListing, limit = 10): string[] {
  const problems: string[] = [];
  // Hard links both ways: a source file's names share one image inode, and an image inode
  // holds one source file.
  const imageInodeOf = new Map<string, string>();
  const sourceInodeOf = new Map<string, string>();
  for (const [path, want] of expected) {
    if (problems.length >= limit) break;
    if (path === '') continue;
    const got = listing.get(path);
    if (got === undefined) {
      problems.push(`${showPath(path)} is not listed`);
      continue;
    }
    if (want.type !== 'symlink' && (got.mode & 0o7777) !== want.mode) problems.push(`${showPath(path)} is listed with mode ${(got.mode & 0o7777).toString(8)}, expected ${want.mode.toString(8)}`);
    if (want.type !== 'file') continue;
    const image = imageInodeOf.get(want.inode) ?? got.inode;
    imageInodeOf.set(want.inode, image);
    if (image !== got.inode) problems.push(`${showPath(path)} is not the same inode as its hard links`);
    const source = sourceInodeOf.get(got.inode) ?? want.inode;
    sourceInodeOf.set(got.inode, source);
    if (source !== want.inode) problems.push(`separate files share inode ${got.inode} in the image`);
  }
  return problems.slice(0, limit);
}
