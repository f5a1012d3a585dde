/**
 * The input file tree every filesystem and archive writer consumes. It is built once from
 * the closure on disk (metadata only; file contents stay on disk and are read once when
 * the image is written) plus the few generated files an image adds.
 *
 * Names and link targets are byte strings (latin1): one character per byte, so any name
 * round-trips and plain string comparison is byte order.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
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
}

export interface SymlinkNode extends NodeMeta {
  readonly kind: 'symlink';
  readonly target: string;
}

export interface DirNode extends NodeMeta {
  readonly kind: 'dir';
  /** Children by name; writers sort names themselves. */
  readonly entries: Map<string, TreeNode>;
}

/** A hard link is the same FileNode object reachable under several names. */
export type TreeNode = FileNode | SymlinkNode | DirNode;

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
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Lists a directory tree on the host (lstat only, contents are not read). */
export function scanHostTree(path: string, options: ScanOptions): TreeNode {
  const inodes = options.inodes ?? new Map<string, FileNode>();
  const visit = (hostPath: string): TreeNode => {
    const raw = Buffer.from(hostPath, 'latin1');
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
        const key = `${st.dev}:${st.ino}`;
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
        let names: Buffer[];
        try {
          names = readdirSync(raw, { encoding: 'buffer' });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'error';
          throw new ImageError('input.unreadable', `Cannot list "${hostPath}": ${code}`, {
            hint: 'check that the store path is readable by this user',
            cause: error,
          });
        }
        const entries = names
          .map((n) => n.toString('latin1'))
          .sort()
          .map((name): [string, TreeNode] => [name, visit(`${hostPath}/${name}`)]);
        return { kind: 'dir', ...meta, entries: new Map(entries) };
      }
      default:
        throw new ImageError('input.unsupported-type', `Cannot copy "${hostPath}": it is neither a file, a directory nor a symlink`, {
          hint: 'the Nix store holds only those three kinds',
        });
    }
  };
  return visit(path);
}

export interface TreeStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Distinct regular files (hard links counted once). */
  inodes: number;
  fileBytes: number;
}

export function treeStats(root: TreeNode): TreeStats {
  const stats: TreeStats = { files: 0, dirs: 0, symlinks: 0, inodes: 0, fileBytes: 0 };
  const seen = new Set<FileNode>();
  const walk = (node: TreeNode): void => {
    if (node.kind === 'dir') {
      stats.dirs++;
      stats.inodes++;
      for (const child of node.entries.values()) walk(child);
    } else if (node.kind === 'symlink') {
      stats.symlinks++;
      stats.inodes++;
    } else {
      stats.files++;
      if (!seen.has(node)) {
        seen.add(node);
        stats.inodes++;
        stats.fileBytes += node.size;
      }
    }
  };
  walk(root);
  return stats;
}

/** Type bits for a node, as stat's st_mode has them. */
export function typeBits(node: TreeNode): number {
  return node.kind === 'dir' ? S_IFDIR : node.kind === 'symlink' ? S_IFLNK : S_IFREG;
}

/** Walks to a directory, creating missing directories with `meta`. */
export function ensureDir(root: DirNode, path: string, meta: NodeMeta): DirNode {
  let current = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    const existing = current.entries.get(part);
    if (existing === undefined) {
      const created = dir(meta);
      current.entries.set(part, created);
      current = created;
    } else if (existing.kind === 'dir') {
      current = existing;
    } else {
      throw new ImageError('tree.not-a-directory', `Cannot create "${path}": "${part}" is not a directory`);
    }
  }
  return current;
}
