/**
 * The cache of compressed units (`--cache`): one file per unit, named by the SHA-256 of the
 * unit's content digest and the settings that decide its bytes (compressor, level, block
 * size, encoder versions), so a warm build writes exactly what a cold one compresses.
 *
 * - An entry holds either the compressed bytes or "stored": the unit did not shrink and is
 *   written raw (its trial compression is skipped next time).
 * - Every entry carries its key and a CRC-32 of itself: one that fails the check (a torn
 *   write, a flipped bit) is ignored and rebuilt, and reported once on stderr. (A CRC-32
 *   catches both and costs a quarter of a SHA-256: a rebuild checks hundreds of MiB.)
 * - Writes go to a temporary file renamed into place, so two builds sharing the cache see
 *   either no entry or a whole one.
 * - Least recently used first: a hit sets the entry's mtime to now, and when a build that
 *   wrote entries closes the cache, the oldest go until the cache fits its size.
 * - A failing write (disk full, read-only, no permission) turns writing off for the rest of
 *   the run with one note: the cache never fails a build.
 * - A large entry (a store path's whole data area, hundreds of MiB) is written and read in
 *   chunks, never held whole: each chunk carries a CRC-32 (a SHA-256 of a GiB would cost
 *   more than the rebuild saves), and the header and the CRCs a SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { CheckedCopyFailed, CheckedRange } from './checked-copy.js';

export type CachedUnit =
  | { readonly kind: 'compressed'; readonly bytes: Uint8Array }
  /** The unit is stored uncompressed (compressing did not shrink it). */
  | { readonly kind: 'stored' };

export interface UnitCacheOptions {
  readonly directory: string;
  /** Bound on the entries' total size, in bytes. */
  readonly maxBytes: number;
  /** One line for stderr (a damaged entry, writing turned off). */
  readonly warn: (line: string) => void;
}

export const DEFAULT_CACHE_BYTES = 10 * 2 ** 30;
/** The layout's version: a directory of its own, so a new layout never reads an old one's entries. */
export const CACHE_LAYOUT = 'units-v2';
const MAGIC = Buffer.from('NGTSUNIT');
const KIND = { compressed: 1, stored: 2 } as const;
/** magic, kind (1 byte, 3 zero), payload length (u32), key (32), CRC-32 of all the rest (u32). */
const HEADER = 8 + 4 + 4 + 32 + 4;
/** The size of an entry without a payload (a unit stored raw). */
export const EMPTY_ENTRY_BYTES = HEADER;
const LARGE_MAGIC = Buffer.from('NGTSLARG');
/** magic, chunk size (u32), 4 zero bytes, payload length (u64), key (32). */
const LARGE_HEADER = 8 + 4 + 4 + 8 + 32;
export const LARGE_CHUNK = 1 << 20;
/** The kinds a store path's record and its data area are looked up as. */
export const STORE_PATH_KIND = 'store path';
export const STORE_PATH_DATA_KIND = 'store path data';
/** The kind a record that only guides the build (nix/new-paths.ts) is looked up as: not a unit. */
export const HINT_KIND = 'hint';
/** The kind a store path's listing (nix/store-listings.ts) is looked up as: not a unit either. */
export const LISTING_KIND = 'store path listing';

/** A large entry open for reading: its payload, read a chunk at a time and checked. */
export interface LargeEntry {
  readonly length: number;
  /**
   * Reads the payload's chunk `index` (LARGE_CHUNK bytes; the last one shorter) into the
   * start of `into` and returns its length, or undefined when it fails its CRC (the entry is
   * then reported as damaged; the caller rebuilds what it held).
   */
  readChunk(index: number, into: Uint8Array): number | undefined;
  close(): void;
}

/** Temporary files older than this were left by a build that died; eviction removes them. */
const STALE_TEMPORARY_MS = 3600_000;

/** Removes every entry (and temporary file) of the cache in `directory`; what else is there stays. */
export function clearUnitCache(directory: string): void {
  // Renamed away first, in one step: a build writing into the cache meanwhile then makes a
  // new layout directory instead of adding to the one being removed (which fails the
  // removal with ENOTEMPTY). A write already under way when it moved can still land in
  // it: the removal is tried again.
  const root = join(directory, CACHE_LAYOUT);
  const doomed = `${root}.clearing-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(root, doomed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  rmSync(doomed, { recursive: true, force: true, maxRetries: 10, retryDelay: 10 });
}

export class UnitCache {
  hits = 0;
  misses = 0;
  /** Hits and misses by the kind of unit get() was told. */
  readonly byKind = new Map<string, { hits: number; misses: number }>();
  bytesWritten = 0;
  /** Store paths whose whole data area was placed from a large entry (squashfs path units). */
  pathsPlaced = 0;
  private writable = true;
  private damaged = 0;
  private readonly root: string;
  private readonly shards = new Set<string>();

  /**
   * The cache directory's permission bits when it is group-writable (one shared by Nix's
   * build users, docs/flake.md): what this writes gets them too (files without the
   * execute and setgid bits), whatever the umask, so the next build user can use it.
   */
  private readonly sharedMode: number | undefined;

  constructor(private readonly options: UnitCacheOptions) {
    this.root = join(options.directory, CACHE_LAYOUT);
    let mode: number | undefined;
    try {
      mode = statSync(options.directory).mode & 0o7777;
    } catch {
      mode = undefined;
    }
    this.sharedMode = mode !== undefined && (mode & 0o020) !== 0 ? mode : undefined;
  }

  get directory(): string {
    return this.options.directory;
  }

  /** The key of a unit: its content's SHA-256 (or another digest that identifies it) under `settings`. */
  static key(settings: string, contentDigest: Uint8Array): Buffer {
    return createHash('sha256').update(settings).update('\0').update(contentDigest).digest();
  }

  /**
   * The unit stored under `key`, or undefined (absent, unreadable or damaged: rebuilt by the
   * caller); `kind` only counts. With `borrow`, the entry is read into the memory it lends
   * (at least the entry's size), which the unit's bytes then are a view of: reading into
   * reused memory is several times faster than into new memory.
   */
  get(key: Buffer, kind = 'unit', borrow?: (size: number) => Uint8Array): CachedUnit | undefined {
    const { path, counts, miss } = this.lookUp(key, kind);
    let entry: Buffer;
    try {
      entry = borrow === undefined ? readFileSync(path) : readInto(path, borrow);
    } catch {
      return miss(false);
    }
    const unit = decodeEntry(entry, key);
    if (unit === undefined) return miss(true);
    this.recordHit(path, counts);
    return unit;
  }

  /**
   * The first `length` payload bytes of the compressed unit under `key`, and the rest of
   * its payload left in its file with what its check needs (core/checked-copy.ts), or
   * undefined (absent, or its header wrong: counted and reported as get() does). Only the
   * header is checked here; the rest is checked where it is copied, and an entry found
   * damaged there is given to discard().
   */
  head(key: Buffer, kind: string, length: number): { readonly head: Uint8Array; readonly rest: CheckedRange } | undefined {
    const { path, counts, miss } = this.lookUp(key, kind);
    const header = Buffer.alloc(HEADER + length);
    let size: number;
    try {
      const fd = openSync(path, 'r');
      try {
        size = fstatSync(fd).size;
        if (size < header.length || readSync(fd, header, 0, header.length, 0) !== header.length) return miss(true);
      } finally {
        closeSync(fd);
      }
    } catch {
      return miss(false);
    }
    if (!header.subarray(0, 8).equals(MAGIC) || header[8] !== KIND.compressed || header.readUInt32LE(12) !== size - HEADER
      || !header.subarray(16, 48).equals(key)) {
      return miss(true);
    }
    this.recordHit(path, counts);
    const seed = crc32(header.subarray(HEADER), crc32(header.subarray(0, 48)));
    return { head: header.subarray(HEADER), rest: { path, offset: header.length, length: size - header.length, seed, crc: header.readUInt32LE(48) } };
  }

  /** Removes the entries found damaged (reported) or gone where they were copied (CheckedCopyFailed). */
  discard(failed: CheckedCopyFailed): void {
    for (const { path, reason } of failed.failures) {
      if (reason === 'damaged') this.reportDamaged(path);
      try {
        unlinkSync(path);
      } catch {
        // gone already
      }
    }
  }

  /** Whether an entry is stored under `key` (not read, not counted): to skip making a unit ahead that the cache has. */
  has(key: Buffer): boolean {
    return existsSync(this.pathOf(key));
  }

  /** The file an entry under `key` is kept in, in the cache at `directory` (for a thread that checks without the cache object). */
  static entryFile(directory: string, key: Buffer): string {
    const hex = key.toString('hex');
    return join(directory, CACHE_LAYOUT, hex.slice(0, 2), hex.slice(2));
  }

  /**
   * What this run found: store paths placed whole of those looked up (kind 'store path'),
   * and compressed units (every other kind but their data, 'store path data', hints and listings) reused.
   */
  reuse(): { paths: { placed: number; total: number }; units: { hits: number; total: number } } {
    const paths = this.byKind.get(STORE_PATH_KIND);
    const units = { hits: 0, total: 0 };
    for (const [kind, counts] of this.byKind) {
      if (kind === STORE_PATH_KIND || kind === STORE_PATH_DATA_KIND || kind === HINT_KIND || kind === LISTING_KIND) continue;
      units.hits += counts.hits;
      units.total += counts.hits + counts.misses;
    }
    return { paths: { placed: this.pathsPlaced, total: paths === undefined ? 0 : paths.hits + paths.misses }, units };
  }

  /** Stores `unit` under `key`; never throws. */
  put(key: Buffer, unit: CachedUnit): void {
    this.store(key, (temporary) => writeEntryFile(temporary, key, unit.kind === 'compressed' ? [unit.bytes] : undefined));
  }

  /**
   * A temporary file name for an entry under `key` that another thread writes (with
   * writeEntryFile) and adopt() then puts in place; undefined when writing is off.
   */
  reserve(key: Buffer): string | undefined {
    if (!this.writable) return undefined;
    const shard = this.shardOf(key);
    try {
      this.ensureShard(shard);
    } catch (error) {
      this.turnWritingOff(error);
      return undefined;
    }
    return this.temporaryIn(shard);
  }

  /**
   * Puts in place the entry written at `temporary` (reserve()), given its size, or drops it:
   * given the error code of its failed write (disk full: writing is turned off, with one
   * note) or nothing (never written). Never throws.
   */
  adopt(key: Buffer, temporary: string, written: number | string | undefined): void {
    try {
      if (typeof written !== 'number') throw Object.assign(new Error('not written'), { code: written });
      this.share(temporary);
      renameSync(temporary, join(this.shardOf(key), key.toString('hex').slice(2)));
      this.bytesWritten += written;
    } catch (error) {
      try { unlinkSync(temporary); } catch { /* never written */ }
      const code = (error as NodeJS.ErrnoException).code;
      // Not written, or its shard removed meanwhile by another build's --cache-clear: only this entry is lost.
      if (code !== undefined && code !== 'ENOENT') this.turnWritingOff(error);
    }
  }

  /**
   * Stores a payload of `length` bytes under `key` without holding it: `fill` is asked for
   * each chunk in order (`into` is LARGE_CHUNK bytes; fill its first `length`). Never throws
   * for the cache's sake; what `fill` throws is thrown.
   */
  putLarge(key: Buffer, length: number, fill: (offset: number, into: Uint8Array, length: number) => void): void {
    const chunks = Math.ceil(length / LARGE_CHUNK);
    const header = Buffer.alloc(LARGE_HEADER);
    LARGE_MAGIC.copy(header, 0);
    header.writeUInt32LE(LARGE_CHUNK, 8);
    header.writeBigUInt64LE(BigInt(length), 16);
    key.copy(header, 24);
    const trailer = Buffer.alloc(4 * chunks + 32);
    const buffer = new Uint8Array(LARGE_CHUNK);
    this.store(key, (temporary) => {
      const fd = openSync(temporary, 'w');
      try {
        writeAll(fd, header, 0);
        for (let i = 0; i < chunks; i++) {
          const size = Math.min(LARGE_CHUNK, length - i * LARGE_CHUNK);
          try {
            fill(i * LARGE_CHUNK, buffer, size);
          } catch (error) {
            throw new ProducerFailure(error);
          }
          const chunk = buffer.subarray(0, size);
          trailer.writeUInt32LE(crc32(chunk), 4 * i);
          writeAll(fd, chunk, LARGE_HEADER + i * LARGE_CHUNK);
        }
        largeDigest(header, trailer.subarray(0, 4 * chunks)).copy(trailer, 4 * chunks);
        writeAll(fd, trailer, LARGE_HEADER + length);
      } finally {
        closeSync(fd);
      }
      return LARGE_HEADER + length + trailer.length;
    });
  }

  /**
   * Writes an entry under `key` through `write` (which makes the temporary file it is
   * given and returns its size), shared as the cache is, then renames it into place. A
   * failure of the cache's own files turns writing off with one note; what a producer
   * threw (ProducerFailure) is thrown.
   */
  private store(key: Buffer, write: (temporary: string) => number): void {
    if (!this.writable) return;
    const shard = this.shardOf(key);
    const temporary = this.temporaryIn(shard);
    try {
      let size: number;
      try {
        this.ensureShard(shard);
        size = write(temporary);
      } catch (error) {
        // Another build's --cache-clear may have removed the shard just now.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        this.shards.delete(shard);
        this.ensureShard(shard);
        size = write(temporary);
      }
      this.share(temporary);
      renameSync(temporary, join(shard, key.toString('hex').slice(2)));
      this.bytesWritten += size;
    } catch (error) {
      try { unlinkSync(temporary); } catch { /* never written */ }
      if (error instanceof ProducerFailure) throw error.failure;
      this.turnWritingOff(error);
    }
  }

  /** The large entry under `key`, or undefined (absent or damaged); `kind` only counts. */
  openLarge(key: Buffer, kind = 'unit'): LargeEntry | undefined {
    const { path, counts, miss } = this.lookUp(key, kind);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return miss(false);
    }
    const header = Buffer.alloc(LARGE_HEADER);
    let length = 0;
    let crcs: Buffer;
    try {
      const size = fstatSync(fd).size;
      if (readSync(fd, header, 0, LARGE_HEADER, 0) !== LARGE_HEADER || !header.subarray(0, 8).equals(LARGE_MAGIC)
        || header.readUInt32LE(8) !== LARGE_CHUNK || !header.subarray(24, 56).equals(key)) {
        closeSync(fd);
        return miss(true);
      }
      length = Number(header.readBigUInt64LE(16));
      const chunks = Math.ceil(length / LARGE_CHUNK);
      const trailer = Buffer.alloc(4 * chunks + 32);
      if (size !== LARGE_HEADER + length + trailer.length || readSync(fd, trailer, 0, trailer.length, LARGE_HEADER + length) !== trailer.length
        || !trailer.subarray(4 * chunks).equals(largeDigest(header, trailer.subarray(0, 4 * chunks)))) {
        closeSync(fd);
        return miss(true);
      }
      crcs = trailer.subarray(0, 4 * chunks);
    } catch {
      closeSync(fd);
      return miss(true);
    }
    this.recordHit(path, counts);
    return {
      length,
      readChunk: (index, into) => {
        const size = Math.min(LARGE_CHUNK, length - index * LARGE_CHUNK);
        let got = 0;
        try {
          while (got < size) {
            const n = readSync(fd, into, got, size - got, LARGE_HEADER + index * LARGE_CHUNK + got);
            if (n === 0) break;
            got += n;
          }
        } catch {
          got = -1;
        }
        if (got !== size || crc32(into.subarray(0, size)) !== crcs.readUInt32LE(4 * index)) {
          this.reportDamaged(path);
          return undefined;
        }
        return size;
      },
      close: () => closeSync(fd),
    };
  }

  /** Ends the run: reports damaged entries beyond the first, and evicts down to the size bound if this run added entries. */
  close(): void {
    if (this.damaged > 1) this.options.warn(`nixos-generate: warning: ${this.damaged - 1} more damaged cache entries were ignored and rebuilt`);
    if (this.bytesWritten > 0) this.evict();
  }

  private evict(): void {
    const entries: { path: string; size: number; mtime: number }[] = [];
    const now = Date.now();
    let total = 0;
    let shards: string[];
    try {
      shards = readdirSync(this.root);
    } catch {
      return;
    }
    for (const shard of shards) {
      let names: string[];
      try {
        names = readdirSync(join(this.root, shard));
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(this.root, shard, name);
        try {
          const stat = statSync(path);
          if (name.startsWith('.tmp-')) {
            if (now - stat.mtimeMs > STALE_TEMPORARY_MS) unlinkSync(path);
            continue;
          }
          entries.push({ path, size: stat.size, mtime: stat.mtimeMs });
          total += stat.size;
        } catch {
          // Removed by another build meanwhile.
        }
      }
    }
    if (total <= this.options.maxBytes) return;
    entries.sort((a, b) => a.mtime - b.mtime || (a.path < b.path ? -1 : 1));
    for (const entry of entries) {
      if (total <= this.options.maxBytes) break;
      try {
        unlinkSync(entry.path);
      } catch {
        // Already gone (another build evicting too), or not ours to remove.
      }
      total -= entry.size;
    }
  }

  /** The file of `key`'s entry, the counts of `kind`, and how a miss is counted (and a damaged entry reported). */
  private lookUp(key: Buffer, kind: string): { path: string; counts: { hits: number; misses: number }; miss: (damaged: boolean) => undefined } {
    const path = this.pathOf(key);
    let counts = this.byKind.get(kind);
    if (counts === undefined) this.byKind.set(kind, counts = { hits: 0, misses: 0 });
    const found = counts;
    return {
      path,
      counts: found,
      miss: (damaged) => {
        if (damaged) this.reportDamaged(path);
        this.misses++;
        found.misses++;
        return undefined;
      },
    };
  }

  /** Counts a hit and marks the entry as used now (its mtime), for the eviction order. */
  private recordHit(path: string, counts: { hits: number }): void {
    this.hits++;
    counts.hits++;
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Evicted meanwhile by another build, or a read-only cache: the hit stands.
    }
  }

  private turnWritingOff(error: unknown): void {
    if (!this.writable) return;
    this.writable = false;
    this.options.warn(`nixos-generate: warning: cannot write to the cache "${this.options.directory}": ${(error as NodeJS.ErrnoException).code ?? String(error)}; the build goes on without adding to it`);
  }

  private shardOf(key: Buffer): string {
    return join(this.root, key.toString('hex').slice(0, 2));
  }

  private temporaryIn(shard: string): string {
    return join(shard, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  private ensureShard(shard: string): void {
    if (this.shards.has(shard)) return;
    const first = mkdirSync(shard, { recursive: true });
    // Only what this build made: another build user's directories are not its to change.
    if (this.sharedMode !== undefined && first !== undefined) {
      for (const made of first === this.root ? [this.root, shard] : [shard]) chmodShared(made, this.sharedMode);
    }
    this.shards.add(shard);
  }

  /** A new entry's mode: shared as its directory, or the umask's. */
  private share(temporary: string): void {
    if (this.sharedMode !== undefined) chmodShared(temporary, this.sharedMode & 0o666);
  }

  private pathOf(key: Buffer): string {
    return UnitCache.entryFile(this.options.directory, key);
  }

  private reportDamaged(path: string): void {
    if (this.damaged++ === 0) this.options.warn(`nixos-generate: warning: ignored the damaged cache entry "${path}" (its checksum does not match); it is rebuilt`);
  }
}

/**
 * Writes the entry of a unit under `key` to a new file at `path`: compressed, its bytes the
 * concatenation of `parts`, or stored (no parts); returns its size. On any thread: a worker
 * that made a unit writes its entry itself (UnitCache.reserve, adopt).
 */
export function writeEntryFile(path: string, key: Uint8Array, parts: readonly Uint8Array[] | undefined): number {
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header[8] = parts === undefined ? KIND.stored : KIND.compressed;
  const length = (parts ?? []).reduce((sum, part) => sum + part.length, 0);
  header.writeUInt32LE(length, 12);
  header.set(key, 16);
  let checksum = crc32(header.subarray(0, 48));
  for (const part of parts ?? []) checksum = crc32(part, checksum);
  header.writeUInt32LE(checksum, 48);
  const fd = openSync(path, 'w');
  try {
    let at = 0;
    for (const part of [header, ...(parts ?? [])]) {
      writeAll(fd, part, at);
      at += part.length;
    }
    return at;
  } finally {
    closeSync(fd);
  }
}

/** Reads the file at `path` whole into memory from `borrow`. */
function readInto(path: string, borrow: (size: number) => Uint8Array): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const memory = borrow(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, memory, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return Buffer.from(memory.buffer, memory.byteOffset, got);
  } finally {
    closeSync(fd);
  }
}

/** The entry's unit, or undefined when anything about it is wrong. */
function decodeEntry(entry: Buffer, key: Buffer): CachedUnit | undefined {
  if (entry.length < HEADER || !entry.subarray(0, 8).equals(MAGIC)) return undefined;
  if (entry.readUInt32LE(12) !== entry.length - HEADER || !entry.subarray(16, 48).equals(key)) return undefined;
  if (entry.readUInt32LE(48) !== entryChecksum(entry)) return undefined;
  if (entry[8] === KIND.stored && entry.length === HEADER) return { kind: 'stored' };
  if (entry[8] === KIND.compressed) return { kind: 'compressed', bytes: entry.subarray(HEADER) };
  return undefined;
}

/**
 * Sets a shared cache's mode; where the setgid bit may not be set (Nix's build sandbox
 * refuses it with EPERM) the permission bits alone: what is written stays usable by the
 * group either way.
 */
function chmodShared(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM' || (mode & 0o7000) === 0) throw error;
    chmodSync(path, mode & 0o777);
  }
}

/** What a large entry's producer threw: the caller's failure, not the cache's. */
class ProducerFailure {
  constructor(readonly failure: unknown) {}
}

function largeDigest(header: Buffer, crcs: Buffer): Buffer {
  return createHash('sha256').update(header).update(crcs).digest();
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function entryChecksum(entry: Buffer): number {
  return crc32(entry.subarray(HEADER), crc32(entry.subarray(0, 48)));
}
