/**
 * A deterministic tar writer onto a ByteSink (format-specs §14): ustar or GNU headers with
 * uid/gid 0, fixed owner names, the mtime given; regular files from bytes, streamed from a
 * producer of known size, or of a size known only afterwards (the header is then patched by
 * the caller, for seekable outputs); directories; GNU sparse members ('S', oldgnu) for a
 * BlockImage. Every member's size is checked against what was written.
 */
import { readWindows, type BlockImage, type Segment } from '../core/block-image.js';
import { ImageError, UsageError } from '../core/errors.js';
import { checkpoint, progressReporter, throttledCheckpoint, type PhasedControl } from '../core/progress.js';
import type { ByteSink } from '../core/sink.js';
import {
  encodeHeader, TAR_BLOCK, TYPE_DIRECTORY, TYPE_FILE, TYPE_GNU_SPARSE, TYPE_HARD_LINK, TYPE_SYMLINK, type SparseEntry, type TarFormat,
} from './tar-header.js';

export interface TarOptions {
  /** Modification time of every member, seconds since 1970 (SOURCE_DATE_EPOCH). */
  readonly mtime: number;
  /** Header format of regular members and directories; sparse members are always GNU. Default ustar. */
  readonly format?: TarFormat;
  /** Owner names; default empty, as `tar --numeric-owner` writes them. */
  readonly uname?: string;
  readonly gname?: string;
  /** The archive is padded to a multiple of this after the end blocks; default 10240 (GNU tar's record). */
  readonly recordSize?: number;
}

export interface TarEntryOptions {
  /** Permission bits; default 0644 for files, 0755 for directories. */
  readonly mode?: number;
}

/** Where a member of deferred size starts and the header that belongs there once written. */
export interface DeferredMember {
  /** Archive offset of the member's header block. */
  readonly headerOffset: number;
  /** Archive offset of the member's first data byte. */
  readonly dataOffset: number;
  readonly size: number;
  /** The final header (512 bytes) to write at `headerOffset`. */
  readonly header: Uint8Array;
}

/** 512-byte-aligned data regions of a sparse member. */
export interface SparseRegion {
  readonly offset: number;
  readonly length: number;
}

const ZERO_BLOCKS = new Uint8Array(2 * TAR_BLOCK);
const SPARSE_WINDOW = 1 << 20;

export class TarWriter {
  private readonly sink: ByteSink;
  private readonly options: Required<TarOptions>;
  private busy = false;
  private finished = false;
  private written = 0;

  constructor(sink: ByteSink, options: TarOptions) {
    if (!Number.isSafeInteger(options.mtime) || options.mtime < 0) {
      throw new UsageError('tar.mtime', `Cannot use the tar mtime ${options.mtime}: expected whole seconds since 1970`);
    }
    const recordSize = options.recordSize ?? 10240;
    if (!Number.isInteger(recordSize) || recordSize < TAR_BLOCK || recordSize % TAR_BLOCK !== 0) {
      throw new UsageError('tar.record-size', `Cannot use the tar record size ${recordSize}: expected a multiple of 512`);
    }
    this.sink = sink;
    this.options = { format: 'ustar', uname: '', gname: '', ...options, recordSize };
  }

  /** The header format of regular members and directories. */
  get format(): TarFormat {
    return this.options.format;
  }

  /** Bytes of archive written so far. */
  get position(): number {
    return this.written;
  }

  async addDirectory(name: string, options: TarEntryOptions = {}): Promise<void> {
    this.begin();
    const dir = name.endsWith('/') ? name : `${name}/`;
    await this.emit(this.header(dir, TYPE_DIRECTORY, options.mode ?? 0o755, 0));
    this.busy = false;
  }

  /** A symbolic link; mode 0777 by default, as Linux reports symlinks. */
  async addSymlink(name: string, target: string, options: TarEntryOptions = {}): Promise<void> {
    this.begin();
    await this.emit(this.header(name, TYPE_SYMLINK, options.mode ?? 0o777, 0, target));
    this.busy = false;
  }

  /** A hard link to the earlier member `target`. */
  async addHardLink(name: string, target: string, options: TarEntryOptions = {}): Promise<void> {
    this.begin();
    await this.emit(this.header(name, TYPE_HARD_LINK, options.mode ?? 0o644, 0, target));
    this.busy = false;
  }

  async addFile(name: string, bytes: Uint8Array, options: TarEntryOptions = {}): Promise<void> {
    await this.addStream(name, bytes.length, (member) => member.write(bytes), options);
  }

  /** A regular member of known size whose bytes `produce` writes into the member sink. */
  async addStream(name: string, size: number, produce: (member: ByteSink) => Promise<void>, options: TarEntryOptions = {}): Promise<void> {
    this.begin();
    await this.emit(this.header(name, TYPE_FILE, options.mode ?? 0o644, size));
    const written = await this.streamMember(name, size, produce);
    if (written !== size) throw sizeMismatch(name, size, written);
    await this.pad(written);
    this.busy = false;
  }

  /**
   * A regular member whose size is known only once `produce` has written it: a placeholder
   * header goes out first, and the returned header must be written at `headerOffset` by the
   * caller (on a seekable output, after the sink is closed).
   */
  async addDeferred(name: string, produce: (member: ByteSink) => Promise<void>, options: TarEntryOptions = {}): Promise<DeferredMember> {
    this.begin();
    const mode = options.mode ?? 0o644;
    const headerOffset = this.written;
    await this.emit(this.header(name, TYPE_FILE, mode, 0));
    const dataOffset = this.written;
    const size = await this.streamMember(name, undefined, produce);
    await this.pad(size);
    this.busy = false;
    return { headerOffset, dataOffset, size, header: this.header(name, TYPE_FILE, mode, size) };
  }

  /**
   * A GNU sparse member holding `image`: the data map (segment-covered 512-byte blocks,
   * merged) is computed from `image.segments()` without reading any data, then the image is
   * read once, in order, and only the mapped bytes are stored.
   */
  async addSparseImage(name: string, image: BlockImage, options: TarEntryOptions = {}, control: PhasedControl = {}): Promise<void> {
    this.begin();
    const regions = sparseRegions(image);
    const stored = regions.reduce((sum, r) => sum + r.length, 0);
    const entries: SparseEntry[] = [...regions, { offset: image.size, length: 0 }];
    await this.emit(encodeHeader({
      name, mode: options.mode ?? 0o644, size: stored, mtime: this.options.mtime, typeflag: TYPE_GNU_SPARSE,
      uname: this.options.uname, gname: this.options.gname, format: 'gnu',
      sparse: { realSize: image.size, entries },
    }));

    const report = progressReporter(control, 'write sparse tar member', image.size);
    const step = throttledCheckpoint(control, 16);
    report(0);
    await checkpoint(control);
    let region = 0;
    let regionDone = 0;
    let done = 0;
    for (const window of readWindows(image, SPARSE_WINDOW)) {
      const start = window.index * SPARSE_WINDOW;
      const end = Math.min(image.size, start + SPARSE_WINDOW);
      while (region < regions.length && regions[region]!.offset < end) {
        const r = regions[region]!;
        const from = Math.max(r.offset, start);
        const upTo = Math.min(r.offset + r.length, end);
        if (from - r.offset !== regionDone) {
          throw new ImageError('tar.sparse-order', `Internal error: the sparse region at ${r.offset} was not read in order`);
        }
        await this.emit(window.data.subarray(from - start, upTo - start));
        done += upTo - from;
        regionDone += upTo - from;
        if (upTo < r.offset + r.length) break;
        region++;
        regionDone = 0;
      }
      const pause = step();
      if (pause !== undefined) {
        report(end);
        await pause;
      }
    }
    if (done !== stored || region !== regions.length) throw sizeMismatch(name, stored, done);
    await this.pad(stored);
    report(image.size);
    this.busy = false;
  }

  /** Two zero blocks, padding to the record size, and closes the sink. */
  async finish(): Promise<void> {
    this.begin();
    await this.emit(ZERO_BLOCKS);
    const record = this.options.recordSize;
    const tail = (record - (this.written % record)) % record;
    if (tail > 0) await this.emit(new Uint8Array(tail));
    await this.sink.close();
    this.finished = true;
    this.busy = false;
  }

  private header(name: string, typeflag: string, mode: number, size: number, linkname?: string): Uint8Array {
    return encodeHeader({
      name, mode, size, mtime: this.options.mtime, typeflag, ...(linkname === undefined ? {} : { linkname }),
      uname: this.options.uname, gname: this.options.gname, format: this.options.format,
    });
  }

  private begin(): void {
    if (this.finished) throw new ImageError('tar.finished', 'Internal error: tar member added after finish()');
    if (this.busy) throw new ImageError('tar.busy', 'Internal error: tar member added while another is being written');
    this.busy = true;
  }

  private async emit(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    await this.sink.write(data);
    this.written += data.length;
  }

  private async pad(size: number): Promise<void> {
    const tail = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
    if (tail > 0) await this.emit(ZERO_BLOCKS.subarray(0, tail));
  }

  /** Runs `produce` on a member sink; refuses bytes past `limit`; returns the byte count. */
  private async streamMember(name: string, limit: number | undefined, produce: (member: ByteSink) => Promise<void>): Promise<number> {
    let count = 0;
    let closed = false;
    const member: ByteSink = {
      get position() {
        return count;
      },
      write: async (data) => {
        if (closed) throw new ImageError('tar.member-closed', `Internal error: write to tar member "${name}" after close`);
        if (limit !== undefined && count + data.length > limit) throw sizeMismatch(name, limit, count + data.length);
        await this.emit(data);
        count += data.length;
      },
      close: async () => {
        closed = true;
      },
    };
    await produce(member);
    closed = true;
    return count;
  }
}

function sizeMismatch(name: string, declared: number, written: number): ImageError {
  return new ImageError('tar.size-mismatch', `Internal error: tar member "${name}" declared ${declared} bytes but ${written} were written`);
}

/**
 * The data map of a sparse member: every 512-byte block a segment touches, clipped to the
 * image size, adjacent and overlapping blocks merged. Lists the segments without reading them.
 */
export function sparseRegions(image: BlockImage): SparseRegion[] {
  const regions: { offset: number; length: number }[] = [];
  let previousEnd = 0;
  for (const s of image.segments() as Iterable<Segment>) {
    if (s.length === 0) continue;
    if (s.offset < previousEnd || s.offset + s.length > image.size) {
      throw new ImageError('image.segment-order', `Internal error: segment at ${s.offset} (+${s.length}) overlaps the previous one ending at ${previousEnd} or the image size ${image.size}`);
    }
    previousEnd = s.offset + s.length;
    const start = Math.floor(s.offset / TAR_BLOCK) * TAR_BLOCK;
    const end = Math.min(image.size, Math.ceil((s.offset + s.length) / TAR_BLOCK) * TAR_BLOCK);
    const last = regions.at(-1);
    if (last !== undefined && start <= last.offset + last.length) {
      last.length = Math.max(last.length, end - last.offset);
    } else {
      regions.push({ offset: start, length: end - start });
    }
  }
  return regions;
}
