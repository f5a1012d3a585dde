/**
 * The data area: every file's contents in blocks of the block size, each compressed on the
 * worker pool and written in order (stored raw when compressing does not shrink it, with
 * bit 24 of its size set; an all-zero block is sparse: size 0, nothing written). A file's
 * tail (size modulo the block size), and a whole file smaller than a block, is packed into
 * fragment blocks shared by many files. Files with the same size and SHA-256 are stored
 * once: the later copy's blocks are dropped (the write position goes back) and its tail
 * is never packed. Files are read once, a block at a time, in tree order.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { hostPath } from '../../core/block-image.js';
import { ImageError } from '../../core/errors.js';
import type { OutputFile } from '../../core/output-file.js';
import type { FileNode } from '../tree.js';
import { BlockPool } from './block-pool.js';
import type { BlockCodec } from './codec.js';
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

export class DataWriter {
  readonly files: StoredFile[] = [];
  readonly fragments: FragmentEntry[] = [];
  /** Where the next block goes (from the filesystem's start). */
  private position: number;
  /** The furthest byte written, which a dropped duplicate can leave past `position`. */
  private highWater: number;
  private readonly queue: Promise<Action>[] = [];
  private readonly depth: number;
  private readonly pool: BlockPool | undefined;
  private readonly spare: Uint8Array[] = [];
  private readonly fragment: Uint8Array;
  private fragmentFill = 0;
  private readonly seen = new Map<string, number>();
  private readonly zeros: Uint8Array;
  bytesRead = 0;

  constructor(
    private readonly out: OutputFile,
    private readonly start: number,
    dataStart: number,
    codec: BlockCodec,
    private readonly blockSize: number,
    threads: number,
  ) {
    this.position = dataStart;
    this.highWater = dataStart;
    this.pool = codec.name === 'none' ? undefined : new BlockPool(codec, threads);
    this.depth = Math.max(4, threads * 4);
    this.fragment = new Uint8Array(blockSize);
    this.zeros = new Uint8Array(blockSize);
  }

  /** Reads and stores one file; returns its index in `files`. */
  async addFile(node: FileNode, path: string): Promise<number> {
    const ordinal = this.files.length;
    const record: StoredFile = { blocksStart: 0, size: node.size, blockSizes: [], fragmentIndex: NO_FRAGMENT, fragmentOffset: 0, sparseBytes: 0 };
    this.files.push(record);
    if (node.size === 0) return ordinal;
    await this.enqueue(Promise.resolve(() => { record.blocksStart = this.position; }));
    const hash = createHash('sha256');
    const fullBlocks = Math.floor(node.size / this.blockSize);
    const tailLength = node.size % this.blockSize;
    const reader = contentReader(node, path);
    try {
      for (let block = 0; block < fullBlocks; block++) {
        const buffer = this.spare.pop() ?? new Uint8Array(this.blockSize);
        reader.read(buffer, this.blockSize, block * this.blockSize);
        hash.update(buffer);
        await this.enqueue(this.storeBlock(buffer, this.blockSize, (sizeWord, sparse) => {
          record.blockSizes.push(sizeWord);
          record.sparseBytes += sparse;
        }));
      }
      let tail: Uint8Array | undefined;
      if (tailLength > 0) {
        tail = new Uint8Array(tailLength);
        reader.read(tail, tailLength, fullBlocks * this.blockSize);
        hash.update(tail);
      }
      this.bytesRead += node.size;
      const key = `${node.size}:${hash.digest('hex')}`;
      const original = this.seen.get(key);
      if (original !== undefined) {
        const first = this.files[original]!;
        await this.enqueue(Promise.resolve(() => {
          this.position = record.blocksStart;
          record.blocksStart = first.blocksStart;
          record.blockSizes = first.blockSizes;
          record.sparseBytes = first.sparseBytes;
        }));
        record.fragmentIndex = first.fragmentIndex;
        record.fragmentOffset = first.fragmentOffset;
        return ordinal;
      }
      this.seen.set(key, ordinal);
      if (tail !== undefined) await this.addTail(record, tail);
      return ordinal;
    } finally {
      reader.close();
    }
  }

  /** Writes the last fragment block and waits for every block; returns the end of the data. */
  async finish(): Promise<{ end: number; highWater: number }> {
    if (this.fragmentFill > 0) await this.flushFragment();
    while (this.queue.length > 0) await this.drainOne();
    await this.pool?.close();
    return { end: this.position, highWater: this.highWater };
  }

  async abort(): Promise<void> {
    await this.pool?.close();
  }

  private async addTail(record: StoredFile, tail: Uint8Array): Promise<void> {
    if (this.fragmentFill + tail.length > this.blockSize) await this.flushFragment();
    record.fragmentIndex = this.fragments.length;
    record.fragmentOffset = this.fragmentFill;
    this.fragment.set(tail, this.fragmentFill);
    this.fragmentFill += tail.length;
  }

  private async flushFragment(): Promise<void> {
    const index = this.fragments.length;
    // A placeholder keeps the table's order; the entry is filled when the block is written.
    this.fragments.push({ start: 0, sizeWord: 0 });
    const buffer = this.fragment.slice(0, this.fragmentFill);
    this.fragmentFill = 0;
    await this.enqueue(this.storeBlock(buffer, buffer.length, (sizeWord, _sparse, start) => {
      this.fragments[index] = { start, sizeWord };
    }, false));
  }

  /**
   * Compresses a block and resolves to the action that writes it at the current position.
   * `done` gets the stored size word, the bytes saved as sparse, and where it went.
   */
  private storeBlock(buffer: Uint8Array, length: number, done: (sizeWord: number, sparse: number, start: number) => void, mayBeSparse = true): Promise<Action> {
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
      this.highWater = Math.max(this.highWater, this.position);
      this.recycle(owner);
      done(sizeWord, 0, at);
    };
    if (this.pool === undefined) return Promise.resolve(write(input, length | UNCOMPRESSED_BLOCK, buffer));
    return this.pool.compress(buffer).then(({ input: back, output }) => (output.length < length
      ? write(output, output.length, back)
      : write(back.subarray(0, length), length | UNCOMPRESSED_BLOCK, back)));
  }

  private recycle(buffer: Uint8Array): void {
    if (buffer.length === this.blockSize && this.spare.length < this.depth) this.spare.push(buffer);
  }

  private async enqueue(item: Promise<Action>): Promise<void> {
    // Keeps a rejected job from being reported as unhandled before its turn comes.
    item.catch(() => undefined);
    this.queue.push(item);
    while (this.queue.length > this.depth) await this.drainOne();
  }

  private async drainOne(): Promise<void> {
    const action = await this.queue.shift()!;
    action();
  }
}

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
  let fd: number;
  try {
    fd = openSync(hostPath(content.path), 'r');
  } catch (error) {
    throw unreadable(content.path, error);
  }
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
