/**
 * A host directory's tree recorded as bytes (each entry's name, kind, permissions, time,
 * size, inode and link target, and each directory's device, inode and ctime), so that a
 * later build lists it again without an lstat per entry.
 *
 * The record still holds while every directory in it has the same device, inode and
 * ctime: the kernel stamps a directory's ctime whenever an entry is added to it, removed
 * or renamed (nix-store --optimise replacing a file by a hard link is a rename), so the
 * same names still name the same inodes. What an entry's own inode says (its permissions,
 * size, time) is not checked again: a record is only for trees that are never changed in
 * place, the Nix store's paths.
 *
 * A file's link count is not checked either, and it can change without its directory:
 * nix-store --optimise links the first copy of some content into /nix/store/.links in
 * place. A file recorded with one name has a linkKey of null, as lazyHostTree gives it, so
 * the record keeps its "<dev>:<ino>" too: the caller checks that no file listed with
 * several names has it (the keys HostListing.check gives), else the file has gained a name
 * and the record is stale. A file recorded with several names that has only one now
 * keeps its key, which no other file has, and writers treat such a key like none.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { hostPath as toHostPath } from '../core/listed-file.js';
import { ImageError } from '../core/errors.js';
import type { DirNode, FileNode, TreeNode } from './tree.js';

const KIND = { dir: 1, file: 2, symlink: 3, linkedFile: 4 } as const;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** The record's first byte: its layout's version. */
const VERSION = 1;

export interface ListedTreeOptions {
  /** Times later than this are clamped to it (SOURCE_DATE_EPOCH). */
  readonly maxTime: number;
  /** Owner of every entry (the record keeps none: the store is root-owned). */
  readonly uid: number;
  readonly gid: number;
  /** Told of each regular file at each listing of its directory, as lazyHostTree's onFile. */
  readonly onFile?: ((hostPath: string, size: number) => void) | undefined;
}

/**
 * The record: its version (u8); every name and link target in entry order, each ended by
 * a NUL (u32 length, then latin1; one string to decode instead of one per name); then the
 * entries in depth-first order, each directory followed by its children sorted by name:
 *
 *   directory: kind u8, permissions u32, mtime f64, dev f64, ino f64, ctime ns u64, children u32
 *   file:      kind u8, permissions u32, mtime f64, size f64 (its "<dev>:<ino>" is the string after its name)
 *              (kind linkedFile when it had more than one name)
 *   symlink:   kind u8, permissions u32, mtime f64 (its target is the string after its name)
 */
const ENTRY_BYTES = { [KIND.dir]: 1 + 4 + 8 + 8 + 8 + 8 + 4, [KIND.file]: 1 + 4 + 8 + 8, [KIND.linkedFile]: 1 + 4 + 8 + 8, [KIND.symlink]: 1 + 4 + 8 } as const;

/** Entries appended in order, in memory that grows, and the strings beside them. */
class RecordWriter {
  private bytes = Buffer.alloc(1 << 16);
  private view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
  private length = 0;
  readonly strings: string[] = [];

  entry(kind: keyof typeof ENTRY_BYTES, name: string, permissions: number, mtime: number): void {
    const n = ENTRY_BYTES[kind];
    if (this.length + n > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(this.bytes.length * 2, this.length + n));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
      this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    }
    this.view.setUint8(this.length, kind);
    this.view.setUint32(this.length + 1, permissions, true);
    this.view.setFloat64(this.length + 5, mtime, true);
    this.length += 13;
    this.strings.push(name);
  }

  f64(value: number): void {
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  u64(value: bigint): void {
    this.view.setBigUint64(this.length, value, true);
    this.length += 8;
  }

  u32(value: number): void {
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  done(): Uint8Array {
    const strings = Buffer.from(this.strings.map((text) => `${text}\0`).join(''), 'latin1');
    const record = new Uint8Array(1 + 4 + strings.length + this.length);
    const view = new DataView(record.buffer);
    view.setUint8(0, VERSION);
    view.setUint32(1, strings.length, true);
    record.set(strings, 5);
    record.set(this.bytes.subarray(0, this.length), 5 + strings.length);
    return record;
  }
}

function unreadable(path: string, error: unknown, action: string): ImageError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new ImageError('input.unreadable', `Cannot ${action} "${path}": ${code}`, {
    hint: 'check that the store path exists and is readable by this user',
    cause: error,
  });
}

/** A directory's identity as its record keeps it: device, inode and ctime in nanoseconds. */
function directoryStamp(raw: string | Buffer, path: string): { dev: number; ino: number; ctimeNs: bigint } {
  try {
    const st = lstatSync(raw, { bigint: true });
    if ((st.mode & BigInt(S_IFMT)) !== BigInt(S_IFDIR)) return { dev: -1, ino: -1, ctimeNs: 0n };
    return { dev: Number(st.dev), ino: Number(st.ino), ctimeNs: st.ctimeNs };
  } catch (error) {
    throw unreadable(path, error, 'read');
  }
}

/** The record of the host directory `path` (a byte string); undefined when `path` is not a directory. */
function recordHostDirectory(path: string): Uint8Array | undefined {
  let top;
  try {
    top = lstatSync(toHostPath(path));
  } catch (error) {
    throw unreadable(path, error, 'read');
  }
  if ((top.mode & S_IFMT) !== S_IFDIR) return undefined;
  const out = new RecordWriter();
  const directory = (hostPath: string, name: string, permissions: number, mtime: number): void => {
    const raw = toHostPath(hostPath);
    // Stamped before it is read: a change while it is read then fails the next check.
    const stamp = directoryStamp(raw, hostPath);
    let names: string[];
    try {
      names = readdirSync(raw, { encoding: 'latin1' }).sort();
    } catch (error) {
      throw unreadable(hostPath, error, 'list');
    }
    out.entry(KIND.dir, name, permissions, mtime);
    out.f64(stamp.dev);
    out.f64(stamp.ino);
    out.u64(stamp.ctimeNs);
    out.u32(names.length);
    for (const child of names) entry(`${hostPath}/${child}`, child);
  };
  const entry = (hostPath: string, name: string): void => {
    const raw = toHostPath(hostPath);
    let st;
    try {
      st = lstatSync(raw);
    } catch (error) {
      throw unreadable(hostPath, error, 'read');
    }
    const permissions = st.mode & 0o7777;
    const mtime = Math.floor(st.mtimeMs / 1000);
    switch (st.mode & S_IFMT) {
      case S_IFDIR:
        directory(hostPath, name, permissions, mtime);
        return;
      case S_IFREG:
        out.entry(st.nlink > 1 ? KIND.linkedFile : KIND.file, name, permissions, mtime);
        out.f64(st.size);
        // As a string made once: the key is a string at each of the writers' walks.
        out.strings.push(`${st.dev}:${st.ino}`);
        return;
      case S_IFLNK:
        out.entry(KIND.symlink, name, permissions, mtime);
        out.strings.push(readlinkSync(raw, { encoding: 'buffer' }).toString('latin1'));
        return;
      default:
        throw new ImageError('input.unsupported-type', `Cannot copy "${hostPath}": it is neither a file, a directory nor a symlink`, {
          hint: 'the Nix store holds only those three kinds',
        });
    }
  };
  directory(path, '', top.mode & 0o7777, Math.floor(top.mtimeMs / 1000));
  return out.done();
}

/** A record that does not parse. */
class MalformedRecord extends ImageError {
  constructor() {
    super('listing.malformed', 'Internal error: a host listing record does not parse');
  }
}

/** Reads a record's entries in order, with their strings. */
class RecordReader {
  private nextString = 0;

  constructor(private readonly view: DataView, private readonly strings: readonly string[], public at: number) {}

  get more(): boolean {
    return this.at < this.view.byteLength;
  }

  /** At the end of the entries, every string read. */
  get end(): boolean {
    return this.at === this.view.byteLength && this.nextString === this.strings.length - 1;
  }

  u8(): number {
    return this.view.getUint8(this.at++);
  }

  u32(): number {
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }

  f64(): number {
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  u64(): bigint {
    const value = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return value;
  }

  string(): string {
    const value = this.strings[this.nextString++];
    if (value === undefined) throw new MalformedRecord();
    return value;
  }
}

/** The "<dev>:<ino>" of every file a listing names, by whether the file had more than one name. */
export interface ListedFileKeys {
  readonly linked: string[];
  readonly single: string[];
}

/** A host directory's listing: recorded from the host, or read back from its bytes (strings decoded once). */
export class HostListing {
  private constructor(readonly bytes: Uint8Array, private readonly view: DataView, private readonly strings: readonly string[], private readonly entries: number) {}

  /** Records the host directory `path` (a byte string); undefined when it is not a directory (a store path that is one file has nothing to save). */
  static record(path: string): HostListing | undefined {
    const bytes = recordHostDirectory(path);
    return bytes === undefined ? undefined : HostListing.read(bytes);
  }

  /** The listing `bytes` hold; undefined when they are not a record of this layout. */
  static read(bytes: Uint8Array): HostListing | undefined {
    if (bytes.length < 5) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const length = view.getUint32(1, true);
    if (view.getUint8(0) !== VERSION || 5 + length > bytes.length) return undefined;
    const strings = Buffer.from(bytes.buffer, bytes.byteOffset + 5, length).toString('latin1').split('\0');
    return new HostListing(bytes, view, strings, 5 + length);
  }

  /**
   * Whether this still lists the directory `path` (each directory has its recorded device,
   * inode and ctime, and the record is whole), with the keys of its files; undefined when not.
   */
  check(path: string): ListedFileKeys | undefined {
    return this.scan(path, true);
  }

  /** The keys of its files (a listing just recorded, which holds). */
  fileKeys(): ListedFileKeys {
    return this.scan('', false)!;
  }

  private scan(path: string, checkDirectories: boolean): ListedFileKeys | undefined {
    const keys: ListedFileKeys = { linked: [], single: [] };
    const reader = this.reader();
    const visit = (hostPath: string): boolean => {
      const kind = reader.u8();
      const name = reader.string();
      reader.at += 12;
      if (kind === KIND.file || kind === KIND.linkedFile) {
        reader.at += 8;
        (kind === KIND.linkedFile ? keys.linked : keys.single).push(reader.string());
        return true;
      }
      if (kind === KIND.symlink) {
        reader.string();
        return true;
      }
      if (kind !== KIND.dir) return false;
      const here = name === '' ? hostPath : `${hostPath}/${name}`;
      const dev = reader.f64();
      const ino = reader.f64();
      const ctimeNs = reader.u64();
      if (!checkDirectories) return visitChildren(here);
      let st;
      try {
        st = lstatSync(toHostPath(here), { bigint: true });
      } catch {
        return false;
      }
      if (Number(st.dev) !== dev || Number(st.ino) !== ino || st.ctimeNs !== ctimeNs || (st.mode & BigInt(S_IFMT)) !== BigInt(S_IFDIR)) return false;
      return visitChildren(here);
    };
    const visitChildren = (here: string): boolean => {
      const count = reader.u32();
      for (let i = 0; i < count; i++) if (!visit(here)) return false;
      return true;
    };
    try {
      return visit(path) && reader.end ? keys : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The tree this lists (of the directory `path`, checked), as a lazy host tree lists it:
   * its directories list their children when asked, from the record (read again at each
   * listing of the top directory, so that nothing but the record stays in memory between
   * the writers' walks).
   */
  tree(path: string, options: ListedTreeOptions): DirNode {
    const { uid, gid, maxTime, onFile } = options;
    /** The top directory, its whole tree read. */
    const parse = (): DirNode => {
      const reader = this.reader();
      const node = (hostPath: string): [string, TreeNode] => {
        const kind = reader.u8();
        const name = reader.string();
        const here = name === '' ? hostPath : `${hostPath}/${name}`;
        const permissions = reader.u32();
        const mtime = Math.min(reader.f64(), maxTime);
        if (kind === KIND.file || kind === KIND.linkedFile) {
          const size = reader.f64();
          const key = reader.string();
          const file: FileNode = { kind: 'file', permissions, uid, gid, mtime, size, content: { kind: 'host', path: here }, linkKey: kind === KIND.linkedFile ? key : null };
          return [name, file];
        }
        if (kind === KIND.symlink) return [name, { kind: 'symlink', permissions, uid, gid, mtime, target: reader.string() }];
        if (kind !== KIND.dir) throw new MalformedRecord();
        reader.at += 24;
        const count = reader.u32();
        const children: [string, TreeNode][] = new Array(count);
        for (let i = 0; i < count; i++) children[i] = node(here);
        const list = (): [string, TreeNode][] => {
          if (onFile !== undefined) {
            for (const [, child] of children) if (child.kind === 'file' && child.content.kind === 'host') onFile(child.content.path, child.size);
          }
          return children.slice();
        };
        return [name, { kind: 'dir', permissions, uid, gid, mtime, entries: new Map(), list, listNames: () => children.slice() }];
      };
      return node(path)[1] as DirNode;
    };
    // The top directory's own entry is the first.
    const permissions = this.view.getUint32(this.entries + 1, true);
    const mtime = Math.min(this.view.getFloat64(this.entries + 5, true), maxTime);
    return {
      kind: 'dir', permissions, uid, gid, mtime, entries: new Map(),
      list: () => parse().list!(),
      listNames: () => parse().listNames!(),
    };
  }

  private reader(): RecordReader {
    return new RecordReader(this.view, this.strings, this.entries);
  }
}
