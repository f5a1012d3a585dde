/** Helpers for building the EFI System Partition's file tree. */
import { statSync } from 'node:fs';
import { ImageError } from '../core/errors.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import { ensureDir, type DirNode, type FileNode, type NodeMeta } from '../fs/tree.js';

export function espMeta(epoch: number, directory = false): NodeMeta {
  return { permissions: directory ? 0o755 : 0o644, uid: 0, gid: 0, mtime: epoch };
}

/**
 * A boot file whose bytes come from the host (a kernel, an initrd, an EFI binary, a GRUB
 * module): only from inside the closure (`role` names it in the error otherwise).
 */
export function hostFile(scope: ClosureScope, path: string, role: string, epoch: number): FileNode {
  scope.require(path, role);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new ImageError('input.unreadable', `Cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'check that the store path exists and is readable by this user',
      cause: error,
    });
  }
  return { kind: 'file', ...espMeta(epoch), size, content: { kind: 'host', path } };
}

/** Places a file at a path like "EFI/BOOT/BOOTX64.EFI", creating directories. */
export function put(root: DirNode, path: string, node: FileNode, epoch: number): void {
  const parts = path.split('/');
  const name = parts.pop()!;
  ensureDir(root, parts.join('/'), espMeta(epoch, true)).entries.set(name, node);
}
