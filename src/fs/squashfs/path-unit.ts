/**
 * Store path units: with a unit cache, each store path's whole stretch of the data area
 * (its blocks and its fragment blocks, which never span two store paths) is cached under
 * the path's name and NAR hash, with what the inode table needs of its files (each block's
 * stored size, where its tail went) and the digests that decide which files are copies.
 *
 * A rebuild finds an unchanged store path there and neither opens nor reads its files: it
 * lists the path (the names, sizes and hard links must be the recorded ones, and every
 * file must still be a copy of an earlier one exactly when it was) and copies the stretch
 * in, checked chunk by chunk. Anything else, or a damaged entry, and the path is written
 * as in a cold build (its blocks still looked up one by one) and recorded again.
 *
 * A store path is trusted to be what its NAR hash says: the store is immutable, and a
 * path that was changed in place would also fail `nix-store --verify`.
 */
import { createHash } from 'node:crypto';
import { STORE_PATH_DATA_KIND, STORE_PATH_KIND, type UnitCache } from '../../core/unit-cache.js';
import type { FileNode } from '../tree.js';
import { blockCacheSettings, type BlockCodec } from './codec.js';
import { contentKey, type ContentDigests, type DataWriter, type UnitMark } from './data.js';
import { NO_FRAGMENT } from './fragment-table.js';

/** A regular file of the unit's walk, and whether it is another name of an earlier inode. */
export interface FileEvent {
  /** Its path below the store path ('' for a store path that is a file). */
  readonly path: string;
  readonly node: FileNode;
  readonly link: boolean;
}

/** How one file was stored: a link, a copy of an earlier file, or its own blocks. */
type RecordedFile =
  | { readonly path: string; readonly link: true }
  | {
    readonly path: string;
    readonly size: number;
    /** base64 of the blocks' SHA-256s, and of the tail's ('' when none). */
    readonly blocks: string;
    readonly tail: string;
    /** Absent for a copy of an earlier file. */
    readonly stored?: {
      /** From the unit's start. */
      readonly blocksStart: number;
      readonly blockSizes: number[];
      /** From the unit's first fragment, or -1. */
      readonly fragmentIndex: number;
      readonly fragmentOffset: number;
      readonly sparseBytes: number;
    };
  };

interface UnitRecord {
  readonly version: 1;
  readonly length: number;
  /** Its fragment blocks: start (from the unit's start) and size word. */
  readonly fragments: [number, number][];
  readonly files: RecordedFile[];
}

const EMPTY = new Uint8Array(0);

function digestsOf(file: Extract<RecordedFile, { size: number }>): ContentDigests {
  return { blocks: Buffer.from(file.blocks, 'base64'), tail: file.tail === '' ? undefined : Buffer.from(file.tail, 'base64') };
}

export class PathUnits {
  private readonly settings: string;

  constructor(private readonly cache: UnitCache, codec: BlockCodec, blockSize: number, private readonly data: DataWriter) {
    this.settings = blockCacheSettings(codec, blockSize, 'path');
  }

  private keys(name: string, identity: string): { record: Buffer; area: Buffer } {
    const digest = createHash('sha256').update(name).update('\0').update(identity).digest();
    return { record: this.cacheKey('record', digest), area: this.cacheKey('area', digest) };
  }

  private cacheKey(part: string, digest: Buffer): Buffer {
    return createHash('sha256').update(this.settings).update(`\0${part}\0`).update(digest).digest();
  }

  /** Whether the cache has a unit for the store path `name` (not read, not counted). */
  has(name: string, identity: string): boolean {
    return this.cache.has(this.keys(name, identity).record);
  }

  /**
   * Places the cached unit of the store path `name` when it is there and still fits
   * `events`; returns what stores each file of the walk in turn, or undefined (write it).
   */
  async place(name: string, identity: string, events: readonly FileEvent[]): Promise<(() => number) | undefined> {
    const keys = this.keys(name, identity);
    const found = this.cache.get(keys.record, STORE_PATH_KIND);
    if (found?.kind !== 'compressed') return undefined;
    let record: UnitRecord;
    try {
      record = JSON.parse(Buffer.from(found.bytes).toString('utf8')) as UnitRecord;
    } catch {
      return undefined;
    }
    if (record.version !== 1 || !this.fits(record, events)) return undefined;
    const area = this.cache.openLarge(keys.area, STORE_PATH_DATA_KIND);
    if (area === undefined) return undefined;
    let placed: { start: number; firstFragment: number } | undefined;
    try {
      if (area.length !== record.length) return undefined;
      placed = await this.data.placeUnit(area.length, (index, into) => area.readChunk(index, into));
    } finally {
      area.close();
    }
    if (placed === undefined) return undefined;
    this.cache.pathsPlaced++;
    const { start, firstFragment } = placed;
    for (const [at, sizeWord] of record.fragments) this.data.addPlacedFragment({ start: start + at, sizeWord });
    const files = record.files.filter((f): f is Extract<RecordedFile, { size: number }> => !('link' in f));
    let next = 0;
    return () => {
      const file = files[next++]!;
      const stored = file.stored;
      return this.data.addPlacedFile(file.size, file.size === 0 ? undefined : digestsOf(file), stored === undefined ? undefined : {
        blocksStart: file.size === 0 ? 0 : start + stored.blocksStart,
        blockSizes: stored.blockSizes,
        fragmentIndex: stored.fragmentIndex < 0 ? NO_FRAGMENT : firstFragment + stored.fragmentIndex,
        fragmentOffset: stored.fragmentOffset,
        sparseBytes: stored.sparseBytes,
      });
    };
  }

  /** Whether the walk is the recorded one and each file is a copy exactly when it was. */
  private fits(record: UnitRecord, events: readonly FileEvent[]): boolean {
    if (record.files.length !== events.length) return false;
    const added = new Set<string>();
    return events.every((event, i) => {
      const file = record.files[i]!;
      if (file.path !== event.path) return false;
      if ('link' in file) return event.link;
      if (event.link || file.size !== event.node.size) return false;
      if (file.size === 0) return true;
      const digests = digestsOf(file);
      const key = contentKey(file.size, digests);
      const copy = added.has(key) || this.data.hasContent(file.size, digests);
      if (copy !== (file.stored === undefined)) return false;
      added.add(key);
      return true;
    });
  }

  /** Starts recording the store path written next (after the fragment group ended). */
  begin(): Promise<UnitMark> {
    return this.data.beginUnit();
  }

  /** Ends the recording: once its data is written, the unit goes into the cache. */
  async end(mark: UnitMark, name: string, identity: string, events: readonly FileEvent[]): Promise<void> {
    const keys = this.keys(name, identity);
    await this.data.endUnit(mark, (start, end, fragmentsEnd) => {
      let ordinal = mark.firstOrdinal;
      const files = events.map((event): RecordedFile => {
        if (event.link) return { path: event.path, link: true };
        const stored = this.data.files[ordinal]!;
        const { digests, duplicate } = this.data.fileContent(ordinal++);
        const blocks = Buffer.from(digests?.blocks ?? EMPTY).toString('base64');
        const tail = digests?.tail === undefined ? '' : Buffer.from(digests.tail).toString('base64');
        if (duplicate) return { path: event.path, size: stored.size, blocks, tail };
        return {
          path: event.path, size: stored.size, blocks, tail,
          stored: {
            blocksStart: stored.size === 0 ? 0 : stored.blocksStart - start,
            blockSizes: stored.blockSizes,
            fragmentIndex: stored.fragmentIndex === NO_FRAGMENT ? -1 : stored.fragmentIndex - mark.firstFragment,
            fragmentOffset: stored.fragmentOffset,
            sparseBytes: stored.sparseBytes,
          },
        };
      });
      const fragments = this.data.fragments.slice(mark.firstFragment, fragmentsEnd).map((f): [number, number] => [f.start - start, f.sizeWord]);
      const record: UnitRecord = { version: 1, length: end - start, fragments, files };
      this.cache.putLarge(keys.area, end - start, (offset, into, length) => this.data.readBack(start + offset, into, length));
      this.cache.put(keys.record, { kind: 'compressed', bytes: Buffer.from(JSON.stringify(record)) });
    });
  }
}
