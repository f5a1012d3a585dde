/**
 * The input file tree every filesystem and archive writer consumes. It is built once from
 * the closure on disk (metadata only; file contents stay on disk and are read once when
 * the image is written) plus the few generated files an image adds.
 *
 * Names and link targets are byte strings (latin1): one character per byte, so any name
 * round-trips and plain string comparison is byte order.
 */
import { lstatSync, readdirSync, readlinkSync, type Dirent, type PathLike } from 'node:fs';
import { hostPath as toHostPath } from '../core/listed-file.js';
import { ImageError } from '../core/errors.js';

export interface NodeMeta {
  /** Permission bits, including setuid, setgid and sticky (no file-type bits). */
  readonly permissions: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since 1970. */
  readonly mtime: number;
}

export type FileContent =
  | { readonly kind: 'host'; readonly path: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

export interface FileNode extends NodeMeta {
  readonly kind: 'file';
  readonly size: number;
  readonly content: FileContent;
  /**
   * Set on files listed lazily from the host: "<dev>:<ino>" when the file has other
   * names (a hard link), null otherwise. Unset on files of an in-memory tree, where the
   * same object under several names is a hard link.
   */
  readonly linkKey?: string | null;
}

export interface SymlinkNode extends NodeMeta {
  readonly kind: 'symlink';
  readonly target: string;
}

export interface DirNode extends NodeMeta {
  readonly kind: 'dir';
  /** Children by name (empty for a lazily listed directory); read them with childrenOf. */
  readonly entries: Map<string, TreeNode>;
  /**
   * Lists the children from the host each time it is called (sorted), so a tree as large
   * as a closure is never held in memory; writers walk it as often as they need.
   */
  readonly list?: () => [string, TreeNode][];
  /**
   * Lists the children as list() does but without their metadata (no lstat): a file's
   * size is -1 and its permissions, owner and time 0; a symlink has its target. For a
   * writer's later pass over a tree whose metadata its first pass kept.
   */
  readonly listNames?: () => [string, TreeNode][];
}

/** A hard link is the same FileNode object reachable under several names. */
export type TreeNode = FileNode | SymlinkNode | DirNode;

/** A directory's children sorted by name (bytewise), listing a lazy directory from the host. */
export function childrenOf(directory: DirNode): [string, TreeNode][] {
  if (directory.list !== undefined) return directory.list();
  return [...directory.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** childrenOf without the metadata of a lazy directory's children (DirNode.listNames). */
export function namedChildrenOf(directory: DirNode): [string, TreeNode][] {
  if (directory.listNames !== undefined) return directory.listNames();
  if (directory.list !== undefined) return directory.list();
  return [...directory.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function dir(meta: NodeMeta, entries: Iterable<[string, TreeNode]> = []): DirNode {
  return { kind: 'dir', ...meta, entries: new Map(entries) };
}

export function fileFromBytes(meta: NodeMeta, bytes: Uint8Array | string): FileNode {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return { kind: 'file', ...meta, size: data.length, content: { kind: 'bytes', bytes: data } };
}

export function symlink(meta: NodeMeta, target: string): SymlinkNode {
  return { kind: 'symlink', ...meta, target };
}

export interface ScanOptions {
  /** Times later than this are clamped to it (SOURCE_DATE_EPOCH). */
  readonly maxTime: number;
  /** Owner forced on every entry (the store is root-owned). */
  readonly uid?: number;
  readonly gid?: number;
  /** Shared across scans so hard links between store paths are kept. */
  readonly inodes?: Map<string, FileNode>;
  /** Told of each regular file as it is listed (again at each listing of a lazy tree). */
  readonly onFile?: ((hostPath: string, size: number) => void) | undefined;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Lists a directory tree on the host into memory (lstat only, contents are not read). */
export function scanHostTree(path: string, options: ScanOptions): TreeNode {
  return hostNode(path, options, false);
}

/**
 * A host path as a tree whose directories list their children when asked, each time:
 * memory stays flat however large the tree is. Hard links carry a linkKey.
 */
export function lazyHostTree(path: string, options: Omit<ScanOptions, 'inodes'>): TreeNode {
  return hostNode(path, options, true);
}

function hostNode(path: string, options: ScanOptions, lazy: boolean): TreeNode {
  const inodes = options.inodes ?? new Map<string, FileNode>();
  const visit = (hostPath: string): TreeNode => {
    const raw = toHostPath(hostPath);
    let st;
    try {
      st = lstatSync(raw, { bigint: false });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new ImageError('input.unreadable', `Cannot read "${hostPath}": ${code}`, {
        hint: 'check that the store path exists and is readable by this user',
        cause: error,
      });
    }
    const meta: NodeMeta = {
      permissions: st.mode & 0o7777,
      uid: options.uid ?? st.uid,
      gid: options.gid ?? st.gid,
      mtime: Math.min(Math.floor(st.mtimeMs / 1000), options.maxTime),
    };
    switch (st.mode & S_IFMT) {
      case S_IFREG: {
        options.onFile?.(hostPath, st.size);
        const key = `${st.dev}:${st.ino}`;
        if (lazy) {
          return { kind: 'file', ...meta, size: st.size, content: { kind: 'host', path: hostPath }, linkKey: st.nlink > 1 ? key : null };
        }
        if (st.nlink > 1) {
          const seen = inodes.get(key);
          if (seen !== undefined) return seen;
        }
        const node: FileNode = { kind: 'file', ...meta, size: st.size, content: { kind: 'host', path: hostPath } };
        if (st.nlink > 1) inodes.set(key, node);
        return node;
      }
      case S_IFLNK:
        return { kind: 'symlink', ...meta, target: readlinkSync(raw, { encoding: 'buffer' }).toString('latin1') };
      case S_IFDIR: {
        const list = (): [string, TreeNode][] => readDirectory(raw, hostPath, 'latin1')
          .sort()
          .map((name): [string, TreeNode] => [name, visit(`${hostPath}/${name}`)]);
        if (!lazy) return { kind: 'dir', ...meta, entries: new Map(list()) };
        return { kind: 'dir', ...meta, entries: new Map(), list, listNames: () => unlistedChildren(raw, hostPath) };
      }
      default:
        throw new ImageError('input.unsupported-type', `Cannot copy "${hostPath}": it is neither a file, a directory nor a symlink`, {
          hint: 'the Nix store holds only those three kinds',
        });
    }
  };
  return visit(path);
}

/**
 * Tells `onFile` of every regular file at or under the host path `path`, with its size,
 * depth first; what cannot be read is passed over: for work that only saves time
 * (nix/new-paths.ts), never for what goes into an image.
 */
export function forEachHostFile(path: string, onFile: (hostPath: string, size: number) => void): void {
  const raw = toHostPath(path);
  let entries: Dirent[];
  try {
    entries = readdirSync(raw, { encoding: 'latin1', withFileTypes: true });
  } catch {
    try {
      const st = lstatSync(raw);
      if ((st.mode & S_IFMT) === S_IFREG) onFile(path, st.size);
    } catch {
      // passed over
    }
    return;
  }
  for (const entry of entries) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory()) {
      forEachHostFile(child, onFile);
    } else if (entry.isFile()) {
      let size: number;
      try {
        size = lstatSync(toHostPath(child)).size;
      } catch {
        continue;
      }
      onFile(child, size);
    }
  }
}

/** Names read as latin1: every byte of a name kept, and no Buffer made per name. */
function readDirectory(raw: PathLike, hostPath: string, as: 'latin1'): string[];
function readDirectory(raw: PathLike, hostPath: string, as: 'dirents'): Dirent[];
function readDirectory(raw: PathLike, hostPath: string, as: 'latin1' | 'dirents'): string[] | Dirent[] {
  try {
    return as === 'latin1' ? readdirSync(raw, { encoding: 'latin1' }) : readdirSync(raw, { encoding: 'latin1', withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ImageError('input.unreadable', `Cannot list "${hostPath}": ${code}`, {
      hint: 'check that the store path is readable by this user',
      cause: error,
    });
  }
}

const UNLISTED: NodeMeta = { permissions: 0, uid: 0, gid: 0, mtime: 0 };

/** DirNode.listNames of a host directory: each child's kind from its directory entry, no lstat. */
function unlistedChildren(raw: PathLike, hostPath: string): [string, TreeNode][] {
  return readDirectory(raw, hostPath, 'dirents')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((entry): [string, TreeNode] => [entry.name, unlistedNode(`${hostPath}/${entry.name}`, entry)]);
}

function unlistedNode(hostPath: string, entry: Dirent): TreeNode {
  if (entry.isDirectory()) {
    const list = (): never => {
      throw new ImageError('tree.unlisted', `Internal error: "${hostPath}" was listed without metadata and cannot give it`);
    };
    return { kind: 'dir', ...UNLISTED, entries: new Map(), list, listNames: () => unlistedChildren(toHostPath(hostPath), hostPath) };
  }
  if (entry.isSymbolicLink()) {
    // Read when asked: a walk that only passes by (ext4's first data walk past a store path's files) never does.
    let target: string | undefined;
    return {
      kind: 'symlink', ...UNLISTED,
      get target(): string {
        target ??= readlinkSync(toHostPath(hostPath), { encoding: 'buffer' }).toString('latin1');
        return target;
      },
    };
  }
  if (entry.isFile()) return { kind: 'file', ...UNLISTED, size: -1, content: { kind: 'host', path: hostPath } };
  throw new ImageError('input.unsupported-type', `Cannot copy "${hostPath}": it is neither a file, a directory nor a symlink`, {
    hint: 'the Nix store holds only those three kinds',
  });
}

/** Walks to a directory, creating missing directories with `meta`. */
/**
 * Puts `node` at `target` ("isolinux", "boot//nix/store/…/bzImage"), creating parent
 * directories with `dirMeta`; a directory put onto a directory merges into it (a lazily
 * listed one is listed), anything else replaces what was there.
 */
export function placeNode(root: DirNode, target: string, node: TreeNode, dirMeta: NodeMeta): void {
  const parts = target.split('/').filter((p) => p !== '');
  const name = parts.pop();
  if (name === undefined) throw new ImageError('tree.root', `Cannot put a file at "${target}": it names the root`);
  const parent = ensureDir(root, parts.join('/'), dirMeta);
  const existing = parent.entries.get(name);
  if (existing?.kind === 'dir' && existing.list === undefined && node.kind === 'dir') {
    for (const [child, value] of childrenOf(node)) placeNode(existing, child, value, dirMeta);
    return;
  }
  parent.entries.set(name, node);
}

export function ensureDir(root: DirNode, path: string, meta: NodeMeta): DirNode {
  let current = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    const existing = current.entries.get(part);
    if (existing === undefined) {
      const created = dir(meta);
      current.entries.set(part, created);
      current = created;
    } else if (existing.kind === 'dir' && existing.list === undefined) {
      current = existing;
    } else {
      throw new ImageError('tree.not-a-directory', `Cannot create "${path}": "${part}" is not a directory`);
    }
  }
  return current;
}
