/**
 * A file tree (src/fs/tree.ts) as tar members, in the order GNU tar's --sort=name writes a
 * directory: the directory, then its children by name (bytewise), each directory's
 * contents right after it. Files are streamed from the host with one reused buffer;
 * a file met again under another name (a hard link) becomes a hard-link member naming the
 * first; modes are the tree's, owners the archive's.
 */
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { imageFromSegments, type Segment } from '../core/block-image.js';
import { hostPath } from '../core/listed-file.js';
import { ImageError } from '../core/errors.js';
import { checkpoint, progressReporter, throttledCheckpoint, type PhasedControl } from '../core/progress.js';
import { childrenOf, type DirNode, type FileNode, type TreeNode } from '../fs/tree.js';
import { streamHostFile } from './sinks.js';
import type { TarWriter } from './tar.js';

const READ_SIZE = 1 << 20;
/** Files at least this large that occupy fewer blocks than their size are stored as GNU sparse members. */
const SPARSE_MIN = 1 << 20;
const SECTOR = 512;

/** What addTree adds up: the bytes of the files it stored (for progress). */
export interface TreeTarResult {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Adds `node` as the member `name` and, for a directory, everything below it. `name` is a
 * byte string without a leading or trailing "/". `total` is the expected sum of file sizes,
 * for progress reports only.
 */
export async function addTree(tar: TarWriter, name: string, node: TreeNode, control: PhasedControl = {}, total = 0): Promise<TreeTarResult> {
  const buffer = new Uint8Array(READ_SIZE);
  const links = new Map<string | FileNode, string>();
  const report = progressReporter(control, 'write tar', total);
  const step = throttledCheckpoint(control, 64);
  let files = 0;
  let bytes = 0;
  await checkpoint(control);

  const addFile = async (path: string, file: FileNode): Promise<void> => {
    const key = file.linkKey === undefined ? file : file.linkKey;
    if (key !== null) {
      const first = links.get(key);
      if (first !== undefined) {
        await tar.addHardLink(path, first, { mode: file.permissions });
        return;
      }
      links.set(key, path);
    }
    const content = file.content;
    if (content.kind === 'bytes') {
      await tar.addFile(path, content.bytes, { mode: file.permissions });
    } else {
      const regions = tar.format === 'gnu' && file.size >= SPARSE_MIN ? sparseDataRegions(content.path, file.size, buffer) : undefined;
      if (regions !== undefined) {
        await tar.addSparseImage(path, imageFromSegments(file.size, regions), { mode: file.permissions });
      } else {
        await tar.addStream(path, file.size, (member) => streamHostFile(content.path, file.size, buffer, (bytes) => member.write(bytes)), { mode: file.permissions });
      }
    }
    files++;
    bytes += file.size;
    const pause = step();
    if (pause !== undefined) {
      report(bytes);
      await pause;
    }
  };

  const visit = async (path: string, current: TreeNode): Promise<void> => {
    switch (current.kind) {
      case 'dir':
        await tar.addDirectory(path, { mode: current.permissions });
        for (const [child, below] of childrenOf(current as DirNode)) await visit(`${path}/${child}`, below);
        return;
      case 'symlink':
        await tar.addSymlink(path, current.target, { mode: 0o777 });
        return;
      case 'file':
        await addFile(path, current);
    }
  };
  await visit(name, node);
  report(bytes);
  return { files, bytes };
}

/**
 * The data of a sparse host file (one that occupies fewer blocks than its size) as
 * segments of the file: its non-zero 512-byte sectors, merged. Undefined for a file that
 * is not sparse. Holes read as zeros quickly; whole zero windows are skipped with one
 * comparison.
 */
function sparseDataRegions(path: string, size: number, buffer: Uint8Array): Segment[] | undefined {
  const raw = hostPath(path);
  if (lstatSync(raw).blocks * SECTOR >= size) return undefined;
  const zeros = new Uint8Array(buffer.length);
  const segments: Segment[] = [];
  let open: { offset: number; length: number } | undefined;
  const close = (): void => {
    if (open !== undefined) segments.push({ offset: open.offset, length: open.length, source: { kind: 'file', path, offset: open.offset, size } });
    open = undefined;
  };
  const fd = openSync(raw, 'r');
  try {
    for (let at = 0; at < size; at += buffer.length) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - at), at);
      if (n === 0) throw new ImageError('input.changed', `Cannot read "${path}": it ended after ${at} of ${size} bytes`, { hint: 'the store path changed while the image was written' });
      if (Buffer.compare(buffer.subarray(0, n), zeros.subarray(0, n)) === 0) {
        close();
        continue;
      }
      for (let sector = 0; sector < n; sector += SECTOR) {
        const end = Math.min(n, sector + SECTOR);
        const isZero = Buffer.compare(buffer.subarray(sector, end), zeros.subarray(0, end - sector)) === 0;
        if (isZero) close();
        else if (open !== undefined && open.offset + open.length === at + sector) open.length += end - sector;
        else {
          close();
          open = { offset: at + sector, length: end - sector };
        }
      }
    }
    close();
  } finally {
    closeSync(fd);
  }
  return segments;
}
