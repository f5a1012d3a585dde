/**
 * The data area: every file's contents in blocks of the block size, each compressed on the
 * worker pool and written in order (stored raw when compressing does not shrink it, with
 * bit 24 of its size set; an all-zero block is sparse: size 0, nothing written). A file's
 * tail (size modulo the block size), and a whole file smaller than a block, is packed into
 * fragment blocks shared by many files. Files with the same size and SHA-256 are stored
 * once: while a file's blocks match those of an earlier file of its size (SHA-256 per
 * block) they are held back, so a copy writes nothing; one that differs after all is
 * read again from where it was held back (rare: same size and same leading blocks).
 * Files are read once otherwise, a block at a time, in tree order.
 *
 * With a unit cache, each block is looked up by its SHA-256 (a fragment block by those of
 * its tails) before it is compressed, and stored there after; a hit writes the same bytes.
 * So that one changed store path leaves the other fragment blocks as they were, the writer
 * closes the fragment block at each entry of the root (`endFragmentGroup`), cache or not.
 */
import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { ImageError } from '../../core/errors.js';
import { openListedFile } from '../../core/listed-file.js';
import type { OutputFile } from '../../core/output-file.js';
import { LARGE_CHUNK, UnitCache } from '../../core/unit-cache.js';
import type { FileNode } from '../tree.js';
import { BlockPool } from './block-pool.js';
import type { BlocksAhead } from './blocks-ahead.js';
import { blockCacheSettings, type BlockCodec } from './codec.js';
import { NO_FRAGMENT, type FragmentEntry } from './fragment-table.js';

/** Bit 24 of a stored block size: the block is stored uncompressed. */
export const UNCOMPRESSED_BLOCK = 1 << 24;

export interface StoredFile {
  blocksStart: number;
  readonly size: number;
  blockSizes: number[];
  fragmentIndex: number;
  fragmentOffset: number;
  sparseBytes: number;
}

type Action = () => void;

const DIGEST = 32;

/** A unit of the data area (one store path) being written: where it starts, once known. */
export interface UnitMark {
  start: number;
  readonly firstOrdinal: number;
  readonly firstFragment: number;
}

/** The chunk a placed unit is copied in (the cache's large-entry chunk). */
const UNIT_CHUNK = LARGE_CHUNK;

/** SHA-256 of each full block and of the tail, to find copies of a file. */
export interface ContentDigests {
  readonly blocks: Uint8Array;
  tail: Uint8Array | undefined;
}

export class DataWriter {
  readonly files: StoredFile[] = [];
  readonly fragments: FragmentEntry[] = [];
  /** Where the next block goes (from the filesystem's start). */
  private position: number;
  /** Actions in output order; `block` marks those holding a block buffer (a compression in flight). */
  private readonly queue: { readonly action: Promise<Action>; readonly block: boolean }[] = [];
  private blocksQueued = 0;
  private readonly depth: number;
  private readonly pool: BlockPool | undefined;
  private readonly spare: Uint8Array[] = [];
  private readonly fragment: Uint8Array;
  private readonly tailScratch: Uint8Array;
  private fragmentFill = 0;
  /** SHA-256 over each tail's length and SHA-256 in the open fragment block: its cache identity. */
  private fragmentDigest = createHash('sha256');
  /** Files of at least one block stored so far by size, and the digests of each (undefined for copies and empty files). */
  private readonly bySize = new Map<number, number[]>();
  /** Files stored so far by size and digests (contentKey). */
  private readonly byContent = new Map<string, number>();
  /** Each file's digests (undefined for empty files), duplicates' too. */
  private readonly digests: (ContentDigests | undefined)[] = [];
  /** Ordinals of files stored as a copy of an earlier one. */
  private readonly duplicates = new Set<number>();
  private readonly zeros: Uint8Array;
  private readonly zeroDigest: Uint8Array;
  bytesRead = 0;

  constructor(
    private readonly out: OutputFile,
    private readonly start: number,
    dataStart: number,
    private readonly codec: BlockCodec,
    private readonly blockSize: number,
    threads: number,
    private readonly cache: UnitCache | undefined = undefined,
    /** Blocks of new store paths being compressed ahead (blocks-ahead.ts): met before a block is looked up. */
    private readonly ahead: BlocksAhead | undefined = undefined,
  ) {
    this.position = dataStart;
    this.pool = codec.name === 'none' ? undefined : new BlockPool(codec, threads);
    this.depth = Math.max(4, threads * 4);
    this.fragment = new Uint8Array(blockSize);
    this.tailScratch = new Uint8Array(blockSize);
    this.zeros = new Uint8Array(blockSize);
    this.zeroDigest = createHash('sha256').update(this.zeros).digest();
  }

  /** Reads and stores one file; returns its index in `files`. */
  async addFile(node: FileNode, path: string): Promise<number> {
    const ordinal = this.files.length;
    const record: StoredFile = { blocksStart: 0, size: node.size, blockSizes: [], fragmentIndex: NO_FRAGMENT, fragmentOffset: 0, sparseBytes: 0 };
    this.files.push(record);
    if (node.size === 0) {
      this.digests.push(undefined);
      return ordinal;
    }
    await this.enqueue(false, Promise.resolve(() => { record.blocksStart = this.position; }));
    const fullBlocks = Math.floor(node.size / this.blockSize);
    const tailLength = node.size % this.blockSize;
    const digests: ContentDigests = { blocks: new Uint8Array(DIGEST * fullBlocks), tail: undefined };
    // Earlier files of this size whose blocks match so far: while any is left, this file's
    // blocks are held back (not written), and read again should it differ after all.
    let candidates = fullBlocks > 0 ? this.bySize.get(node.size) ?? [] : [];
    let submitted = 0;
    const reader = contentReader(node, path);
    const hostPath = node.content.kind === 'host' ? node.content.path : undefined;
    const submit = async (buffer: Uint8Array, digest: Uint8Array, block: number): Promise<void> => {
      if (hostPath !== undefined) await this.ahead?.settle(hostPath, block * this.blockSize);
      await this.enqueue(true, this.storeBlock(buffer, this.blockSize, (sizeWord, sparse) => {
        record.blockSizes.push(sizeWord);
        record.sparseBytes += sparse;
      }, digest));
    };
    const submitHeldBack = async (upTo: number): Promise<void> => {
      for (; submitted < upTo; submitted++) {
        const again = this.spare.pop() ?? new Uint8Array(this.blockSize);
        reader.read(again, this.blockSize, submitted * this.blockSize);
        await submit(again, digests.blocks.subarray(submitted * DIGEST, (submitted + 1) * DIGEST), submitted);
      }
    };
    try {
      for (let block = 0; block < fullBlocks; block++) {
        const buffer = this.spare.pop() ?? new Uint8Array(this.blockSize);
        reader.read(buffer, this.blockSize, block * this.blockSize);
        // All-zero blocks (sparse files) are common and cheaper to compare than to hash.
        const digest = Buffer.compare(buffer, this.zeros) === 0 ? this.zeroDigest : createHash('sha256').update(buffer).digest();
        digests.blocks.set(digest, block * DIGEST);
        if (candidates.length > 0) {
          candidates = candidates.filter((earlier) => Buffer.compare(this.digests[earlier]!.blocks.subarray(block * DIGEST, (block + 1) * DIGEST), digest) === 0);
          if (candidates.length > 0) {
            this.recycle(buffer);
            continue;
          }
          await submitHeldBack(block);
        }
        await submit(buffer, digest, block);
        submitted = block + 1;
      }
      let tail: Uint8Array | undefined;
      if (tailLength > 0) {
        // Read into one reused buffer: fresh memory per small file costs more than reading it.
        tail = this.tailScratch.subarray(0, tailLength);
        reader.read(tail, tailLength, fullBlocks * this.blockSize);
        digests.tail = createHash('sha256').update(tail).digest();
      }
      this.bytesRead += node.size;
      // Found by its digests in one lookup: comparing against every earlier file of the
      // same size is quadratic in a closure of many equal-sized files.
      const key = contentKey(node.size, digests);
      const original = fullBlocks === 0 || candidates.length > 0 ? this.byContent.get(key) : undefined;
      if (original !== undefined) {
        // The same size and the same SHA-256 for every block and the tail: stored once.
        const first = this.files[original]!;
        await this.enqueue(false, Promise.resolve(() => {
          record.blocksStart = first.blocksStart;
          record.blockSizes = first.blockSizes;
          record.sparseBytes = first.sparseBytes;
        }));
        record.fragmentIndex = first.fragmentIndex;
        record.fragmentOffset = first.fragmentOffset;
        this.digests.push(digests);
        this.duplicates.add(ordinal);
        return ordinal;
      }
      await submitHeldBack(fullBlocks);
      this.digests.push(digests);
      this.byContent.set(key, ordinal);
      if (fullBlocks > 0) {
        const sameSize = this.bySize.get(node.size);
        if (sameSize === undefined) this.bySize.set(node.size, [ordinal]);
        else sameSize.push(ordinal);
      }
      if (tail !== undefined) await this.addTail(record, tail, digests.tail!);
      return ordinal;
    } finally {
      reader.close();
    }
  }

  /** The digests a file was stored under, and whether it was a copy of an earlier one (for units). */
  fileContent(ordinal: number): { digests: ContentDigests | undefined; duplicate: boolean } {
    return { digests: this.digests[ordinal], duplicate: this.duplicates.has(ordinal) };
  }

  /** Whether a file of this size and these digests is stored already (the next one would be a copy). */
  hasContent(size: number, digests: ContentDigests): boolean {
    return this.byContent.has(contentKey(size, digests));
  }

  /**
   * Marks the start of a unit: `mark.start` is set to where its first block goes once the
   * blocks before it are written. Call after endFragmentGroup.
   */
  async beginUnit(): Promise<UnitMark> {
    const mark: UnitMark = { start: -1, firstOrdinal: this.files.length, firstFragment: this.fragments.length };
    await this.enqueue(false, Promise.resolve(() => { mark.start = this.position; }));
    return mark;
  }

  /**
   * Ends a unit: once its last block is written, `done` gets its extent [start, end) of the
   * data area and the end of its fragments in `fragments`.
   */
  async endUnit(mark: UnitMark, done: (start: number, end: number, fragmentsEnd: number) => void): Promise<void> {
    await this.endFragmentGroup();
    const fragmentsEnd = this.fragments.length;
    await this.enqueue(false, Promise.resolve(() => done(mark.start, this.position, fragmentsEnd)));
  }

  /**
   * Writes a unit's data area (read from the cache a chunk at a time) at the current
   * position, once everything before it is written; returns where it went, or undefined
   * when a chunk fails its check (what was copied is zeroed again: nothing moved).
   */
  async placeUnit(length: number, readChunk: (index: number, into: Uint8Array) => number | undefined): Promise<{ start: number; firstFragment: number } | undefined> {
    if (this.fragmentFill > 0) await this.flushFragment();
    while (this.queue.length > 0) await this.drainOne();
    const start = this.position;
    const buffer = new Uint8Array(UNIT_CHUNK);
    let copied = 0;
    for (let index = 0; copied < length; index++) {
      const size = readChunk(index, buffer);
      if (size === undefined) {
        buffer.fill(0);
        for (let at = 0; at < copied; at += UNIT_CHUNK) this.out.writeAt(this.start + start + at, buffer.subarray(0, Math.min(UNIT_CHUNK, copied - at)));
        return undefined;
      }
      this.out.writeAt(this.start + start + copied, buffer.subarray(0, size));
      copied += size;
    }
    this.position += length;
    return { start, firstFragment: this.fragments.length };
  }

  /** Reads back bytes of the data area already written (`position` from the filesystem's start). */
  readBack(position: number, into: Uint8Array, length: number): void {
    this.out.readAt(this.start + position, into, length);
  }

  /** Adds a fragment block of a placed unit (`start` from the filesystem's start). */
  addPlacedFragment(entry: FragmentEntry): void {
    this.fragments.push(entry);
  }

  /**
   * Records a file of a placed unit as addFile would have stored it: `stored` for one
   * whose blocks and tail are in the unit, undefined for a copy of an earlier file.
   */
  addPlacedFile(size: number, digests: ContentDigests | undefined, stored: Omit<StoredFile, 'size'> | undefined): number {
    const ordinal = this.files.length;
    this.bytesRead += size;
    if (size === 0 || digests === undefined) {
      this.files.push({ blocksStart: 0, size, blockSizes: [], fragmentIndex: NO_FRAGMENT, fragmentOffset: 0, sparseBytes: 0 });
      this.digests.push(undefined);
      return ordinal;
    }
    const key = contentKey(size, digests);
    this.digests.push(digests);
    if (stored === undefined) {
      const first = this.files[this.byContent.get(key)!]!;
      this.files.push({ ...first, size, blockSizes: first.blockSizes });
      this.duplicates.add(ordinal);
      return ordinal;
    }
    this.files.push({ ...stored, size });
    this.byContent.set(key, ordinal);
    if (size >= this.blockSize) {
      const sameSize = this.bySize.get(size);
      if (sameSize === undefined) this.bySize.set(size, [ordinal]);
      else sameSize.push(ordinal);
    }
    return ordinal;
  }

  /** Writes the last fragment block and waits for every block; returns the end of the data. */
  async finish(): Promise<number> {
    try {
      if (this.fragmentFill > 0) await this.flushFragment();
      while (this.queue.length > 0) await this.drainOne();
    } finally {
      await this.pool?.close();
    }
    return this.position;
  }

  async abort(): Promise<void> {
    await this.pool?.close();
  }

  /** Closes the open fragment block: the next tail starts a new one. */
  async endFragmentGroup(): Promise<void> {
    if (this.fragmentFill > 0) await this.flushFragment();
  }

  private async addTail(record: StoredFile, tail: Uint8Array, digest: Uint8Array): Promise<void> {
    if (this.fragmentFill + tail.length > this.blockSize) await this.flushFragment();
    record.fragmentIndex = this.fragments.length;
    record.fragmentOffset = this.fragmentFill;
    this.fragment.set(tail, this.fragmentFill);
    this.fragmentFill += tail.length;
    if (this.cache !== undefined) {
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, tail.length, true);
      this.fragmentDigest.update(length).update(digest);
    }
  }

  private async flushFragment(): Promise<void> {
    const index = this.fragments.length;
    // A placeholder keeps the table's order; the entry is filled when the block is written.
    this.fragments.push({ start: 0, sizeWord: 0 });
    const length = this.fragmentFill;
    const buffer = this.spare.pop() ?? new Uint8Array(this.blockSize);
    buffer.set(this.fragment.subarray(0, length));
    this.fragmentFill = 0;
    const digest = this.fragmentDigest.digest();
    this.fragmentDigest = createHash('sha256');
    await this.enqueue(true, this.storeBlock(buffer, length, (sizeWord, _sparse, start) => {
      this.fragments[index] = { start, sizeWord };
    }, digest, false));
  }

  /**
   * Compresses a block and resolves to the action that writes it at the current position.
   * `done` gets the stored size word, the bytes saved as sparse, and where it went.
   * `digest` identifies the block's content for the cache.
   */
  private storeBlock(buffer: Uint8Array, length: number, done: (sizeWord: number, sparse: number, start: number) => void, digest: Uint8Array, mayBeSparse = true): Promise<Action> {
    const input = buffer.subarray(0, length);
    if (mayBeSparse && Buffer.compare(input, this.zeros.subarray(0, length)) === 0) {
      this.recycle(buffer);
      return Promise.resolve(() => done(0, length, this.position));
    }
    // `owner` is the buffer to reuse afterwards: the one that came back from the worker.
    const write = (stored: Uint8Array, sizeWord: number, owner: Uint8Array): Action => () => {
      const at = this.position;
      this.out.writeAt(this.start + at, stored);
      this.position += stored.length;
      this.recycle(owner);
      done(sizeWord, 0, at);
    };
    if (this.pool === undefined) return Promise.resolve(write(input, length | UNCOMPRESSED_BLOCK, buffer));
    const cache = this.cache;
    const key = cache === undefined ? undefined : UnitCache.key(blockCacheSettings(this.codec, length), digest);
    if (key !== undefined) {
      const unit = cache!.get(key, 'squashfs data');
      if (unit?.kind === 'stored') return Promise.resolve(write(input, length | UNCOMPRESSED_BLOCK, buffer));
      if (unit?.kind === 'compressed' && unit.bytes.length < length) return Promise.resolve(write(unit.bytes, unit.bytes.length, buffer));
    }
    return this.pool.compress(buffer, length).then(({ input: back, output }) => {
      const shrunk = output.length < length;
      if (key !== undefined) cache!.put(key, shrunk ? { kind: 'compressed', bytes: output } : { kind: 'stored' });
      return shrunk ? write(output, output.length, back) : write(back.subarray(0, length), length | UNCOMPRESSED_BLOCK, back);
    });
  }

  private recycle(buffer: Uint8Array): void {
    if (buffer.length === this.blockSize && this.spare.length < this.depth) this.spare.push(buffer);
  }

  /**
   * Queues an action in output order. Only block compressions count against the depth:
   * the bookkeeping of thousands of small files between two fragment blocks must not keep
   * the next block from being compressed meanwhile (that left one core idle).
   */
  private async enqueue(block: boolean, action: Promise<Action>): Promise<void> {
    // Keeps a rejected job from being reported as unhandled before its turn comes.
    action.catch(() => undefined);
    this.queue.push({ action, block });
    if (block) this.blocksQueued++;
    while (this.blocksQueued > this.depth || this.queue.length > MAX_QUEUED_ACTIONS) await this.drainOne();
  }

  private async drainOne(): Promise<void> {
    const { action, block } = this.queue.shift()!;
    if (block) this.blocksQueued--;
    (await action)();
  }
}

/** Size and every block's and the tail's SHA-256: equal keys, equal contents. */
export function contentKey(size: number, digests: ContentDigests): string {
  return `${size}:${Buffer.from(digests.blocks.buffer, digests.blocks.byteOffset, digests.blocks.byteLength).toString('base64')}:${digests.tail === undefined ? '' : Buffer.from(digests.tail).toString('base64')}`;
}

/** Bound on queued bookkeeping actions (each is a closure of a few words). */
const MAX_QUEUED_ACTIONS = 1 << 16;

interface ContentReader {
  read(into: Uint8Array, length: number, position: number): void;
  close(): void;
}

function unreadable(path: string, error: unknown): ImageError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new ImageError('input.unreadable', `Cannot read "${path}": ${code}`, {
    hint: 'check that the file exists and is readable by this user',
    cause: error,
  });
}

function contentReader(node: FileNode, path: string): ContentReader {
  const content = node.content;
  if (content.kind === 'bytes') {
    if (content.bytes.length !== node.size) {
      throw new ImageError('input.changed', `Cannot read "${path}": it holds ${content.bytes.length} bytes, the tree says ${node.size}`);
    }
    return {
      read: (into, length, position) => into.set(content.bytes.subarray(position, position + length)),
      close: () => undefined,
    };
  }
  const fd = openListedFile(content.path, node.size);
  return {
    read: (into, length, position) => {
      let got = 0;
      while (got < length) {
        let n: number;
        try {
          n = readSync(fd, into, got, length - got, position + got);
        } catch (error) {
          throw unreadable(content.path, error);
        }
        if (n === 0) {
          throw new ImageError('input.changed', `Cannot read "${content.path}": it is shorter than when it was listed`, { hint: 'the file changed during the build; rebuild' });
        }
        got += n;
      }
    },
    close: () => closeSync(fd),
  };
}
