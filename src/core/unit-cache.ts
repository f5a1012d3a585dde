/**
 * The cache of compressed units (`--cache`): one file per unit, named by the SHA-256 of the
 * unit's content digest and the settings that decide its bytes (compressor, level, block
 * size, encoder versions), so a warm build writes exactly what a cold one compresses.
 *
 * - An entry holds either the compressed bytes or "stored": the unit did not shrink and is
 *   written raw (its trial compression is skipped next time).
 * - Every entry carries its key and a SHA-256 of itself: one that fails the check (a torn
 *   write, a flipped bit) is ignored and rebuilt, and reported once on stderr.
 * - Writes go to a temporary file renamed into place, so two builds sharing the cache see
 *   either no entry or a whole one.
 * - Least recently used first: a hit sets the entry's mtime to now, and when a build that
 *   wrote entries closes the cache, the oldest go until the cache fits its size.
 * - A failing write (disk full, read-only, no permission) turns writing off for the rest of
 *   the run with one note: the cache never fails a build.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
const LAYOUT = 'units-v1';
const MAGIC = Buffer.from('NGTSUNIT');
const KIND = { compressed: 1, stored: 2 } as const;
/** magic, kind (1 byte, 3 zero), payload length (u32), key (32), SHA-256 of all the rest (32). */
const HEADER = 8 + 4 + 4 + 32 + 32;
/** Temporary files older than this were left by a build that died; eviction removes them. */
const STALE_TEMPORARY_MS = 3600_000;

/** Removes every entry (and temporary file) of the cache in `directory`; what else is there stays. */
export function clearUnitCache(directory: string): void {
  rmSync(join(directory, LAYOUT), { recursive: true, force: true });
}

export class UnitCache {
  hits = 0;
  misses = 0;
  /** Hits and misses by the kind of unit get() was told. */
  readonly byKind = new Map<string, { hits: number; misses: number }>();
  bytesWritten = 0;
  private writable = true;
  private damaged = 0;
  private readonly root: string;
  private readonly shards = new Set<string>();

  constructor(private readonly options: UnitCacheOptions) {
    this.root = join(options.directory, LAYOUT);
  }

  get directory(): string {
    return this.options.directory;
  }

  /** The key of a unit: its content's SHA-256 (or another digest that identifies it) under `settings`. */
  static key(settings: string, contentDigest: Uint8Array): Buffer {
    return createHash('sha256').update(settings).update('\0').update(contentDigest).digest();
  }

  /** The unit stored under `key`, or undefined (absent, unreadable or damaged: rebuilt by the caller); `kind` only counts. */
  get(key: Buffer, kind = 'unit'): CachedUnit | undefined {
    const path = this.pathOf(key);
    let counts = this.byKind.get(kind);
    if (counts === undefined) this.byKind.set(kind, counts = { hits: 0, misses: 0 });
    let entry: Buffer;
    try {
      entry = readFileSync(path);
    } catch {
      this.misses++;
      counts.misses++;
      return undefined;
    }
    const unit = decodeEntry(entry, key);
    if (unit === undefined) {
      this.reportDamaged(path);
      this.misses++;
      counts.misses++;
      return undefined;
    }
    this.hits++;
    counts.hits++;
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Evicted meanwhile by another build, or a read-only cache: the hit stands.
    }
    return unit;
  }

  /** Stores `unit` under `key`; never throws. */
  put(key: Buffer, unit: CachedUnit): void {
    if (!this.writable) return;
    const hex = key.toString('hex');
    const shard = join(this.root, hex.slice(0, 2));
    const temporary = join(shard, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const entry = encodeEntry(key, unit);
    try {
      try {
        this.ensureShard(shard);
        writeFileSync(temporary, entry);
      } catch (error) {
        // Another build's --cache-clear may have removed the shard just now.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        this.shards.delete(shard);
        this.ensureShard(shard);
        writeFileSync(temporary, entry);
      }
      renameSync(temporary, join(shard, hex.slice(2)));
      this.bytesWritten += entry.length;
    } catch (error) {
      this.writable = false;
      try { unlinkSync(temporary); } catch { /* never written */ }
      this.options.warn(`nixos-generate: warning: cannot write to the cache "${this.options.directory}": ${(error as NodeJS.ErrnoException).code ?? String(error)}; the build goes on without adding to it`);
    }
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

  private ensureShard(shard: string): void {
    if (this.shards.has(shard)) return;
    mkdirSync(shard, { recursive: true });
    this.shards.add(shard);
  }

  private pathOf(key: Buffer): string {
    const hex = key.toString('hex');
    return join(this.root, hex.slice(0, 2), hex.slice(2));
  }

  private reportDamaged(path: string): void {
    if (this.damaged++ === 0) this.options.warn(`nixos-generate: warning: ignored the damaged cache entry "${path}" (its checksum does not match); it is rebuilt`);
  }
}

function encodeEntry(key: Buffer, unit: CachedUnit): Buffer {
  const payload = unit.kind === 'compressed' ? unit.bytes : new Uint8Array(0);
  const entry = Buffer.alloc(HEADER + payload.length);
  MAGIC.copy(entry, 0);
  entry[8] = KIND[unit.kind];
  entry.writeUInt32LE(payload.length, 12);
  key.copy(entry, 16);
  entry.set(payload, HEADER);
  entryChecksum(entry).copy(entry, 48);
  return entry;
}

/** The entry's unit, or undefined when anything about it is wrong. */
function decodeEntry(entry: Buffer, key: Buffer): CachedUnit | undefined {
  if (entry.length < HEADER || !entry.subarray(0, 8).equals(MAGIC)) return undefined;
  if (entry.readUInt32LE(12) !== entry.length - HEADER || !entry.subarray(16, 48).equals(key)) return undefined;
  if (!entry.subarray(48, 80).equals(entryChecksum(entry))) return undefined;
  if (entry[8] === KIND.stored && entry.length === HEADER) return { kind: 'stored' };
  if (entry[8] === KIND.compressed) return { kind: 'compressed', bytes: entry.subarray(HEADER) };
  return undefined;
}

function entryChecksum(entry: Buffer): Buffer {
  return createHash('sha256').update(entry.subarray(0, 48)).update(entry.subarray(HEADER)).digest();
}
