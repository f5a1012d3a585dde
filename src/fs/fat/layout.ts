/**
 * Lays a tree out on a FAT volume: names every entry, sizes every directory, and gives
 * every directory and non-empty file one contiguous run of clusters. Clusters are handed
 * out from 2 upward in pre-order (a directory, then its entries in name order), so the
 * image is written front to back. Nothing is read or encoded here.
 */
import { ImageError } from '../../core/errors.js';
import { childrenOf, type DirNode, type FileNode } from '../tree.js';
import type { ClusterRun } from './fat-table.js';
import type { FatGeometry } from './geometry.js';
import { lfnEntryCount } from './lfn.js';
import { assignFatNames, decodeTreeName, type FatName } from './names.js';
import { DIR_ENTRY_SIZE } from './dir-entry.js';

/** fatgen103: a directory holds at most 65536 entries (2 MiB). */
const MAX_DIR_ENTRIES = 65536;
const MAX_FILE_SIZE = 0xffffffff;

export interface PlannedFile {
  readonly kind: 'file';
  readonly node: FileNode;
  readonly path: string;
  /** 0 for an empty file. */
  readonly firstCluster: number;
  readonly clusters: number;
}

export interface PlannedChild {
  readonly name: FatName;
  readonly target: PlannedFile | PlannedDir;
}

export interface PlannedDir {
  readonly kind: 'dir';
  readonly node: DirNode;
  readonly path: string;
  readonly isRoot: boolean;
  /** 0 for the FAT12/16 root, which lives in its own area. */
  readonly firstCluster: number;
  readonly clusters: number;
  /** What ".." holds: the parent's first cluster, 0 when the parent is the root. */
  readonly parentCluster: number;
  /** Bytes of directory entries (the rest of the last cluster stays zero). */
  readonly entryBytes: number;
  readonly children: readonly PlannedChild[];
}

export interface FatLayout {
  readonly root: PlannedDir;
  /** Directories and files that own clusters, in ascending cluster order. */
  readonly objects: readonly (PlannedFile | PlannedDir)[];
  readonly runs: readonly ClusterRun[];
  readonly clustersUsed: number;
}

export function planFat(root: DirNode, geometry: FatGeometry, hasLabel: boolean): FatLayout {
  const objects: (PlannedFile | PlannedDir)[] = [];
  const clusterBytes = geometry.clusterBytes;
  let next = 2;
  const take = (clusters: number): number => {
    const first = next;
    next += clusters;
    return first;
  };

  const planDir = (node: DirNode, path: string, isRoot: boolean, parentCluster: number): PlannedDir => {
    const listing = childrenOf(node);
    const raw = listing.map(([name]) => name);
    const decoded = raw.map((r) => decodeTreeName(r, `${path}/${r}`));
    const names = assignFatNames(decoded, path);
    let entries = isRoot ? (hasLabel ? 1 : 0) : 2;
    for (const name of names) entries += 1 + (name.long === undefined ? 0 : lfnEntryCount(name.long.length));
    const where = path === '' ? '/' : path;
    if (entries > MAX_DIR_ENTRIES) {
      throw new ImageError('fat.directory-too-large', `Cannot store directory "${where}" on FAT: it needs ${entries} entries, more than the ${MAX_DIR_ENTRIES} a FAT directory holds`, {
        hint: 'split it into subdirectories',
      });
    }
    const entryBytes = entries * DIR_ENTRY_SIZE;
    let firstCluster = 0;
    let clusters = 0;
    if (isRoot && geometry.fatType !== 32) {
      if (entries > geometry.rootEntries) {
        throw new ImageError('fat.root-full', `Cannot store the root directory on FAT${geometry.fatType}: it needs ${entries} entries, but the root holds ${geometry.rootEntries}`, {
          hint: 'move entries into a subdirectory, or use FAT32',
        });
      }
    } else {
      clusters = Math.max(1, Math.ceil(entryBytes / clusterBytes));
      firstCluster = take(clusters);
    }
    const children: PlannedChild[] = [];
    const dir: PlannedDir = { kind: 'dir', node, path, isRoot, firstCluster, clusters, parentCluster, entryBytes, children };
    if (clusters > 0) objects.push(dir);
    raw.forEach((_, i) => {
      const child = listing[i]![1];
      const childPath = `${path}/${decoded[i]!}`;
      const name = names[i]!;
      switch (child.kind) {
        case 'symlink':
          throw new ImageError('fat.symlink', `Cannot store symlink "${childPath}" on FAT: FAT has no symbolic links`, {
            hint: 'replace the link by the file or directory it points to',
          });
        case 'file': {
          if (child.size > MAX_FILE_SIZE) {
            throw new ImageError('fat.file-too-large', `Cannot store "${childPath}" on FAT: it is ${child.size} bytes, and FAT files end at ${MAX_FILE_SIZE}`);
          }
          const fileClusters = Math.ceil(child.size / clusterBytes);
          const file: PlannedFile = {
            kind: 'file', node: child, path: childPath, clusters: fileClusters,
            firstCluster: fileClusters > 0 ? take(fileClusters) : 0,
          };
          if (fileClusters > 0) objects.push(file);
          children.push({ name, target: file });
          break;
        }
        case 'dir':
          children.push({ name, target: planDir(child, childPath, false, isRoot ? 0 : firstCluster) });
          break;
      }
    });
    return dir;
  };

  const rootDir = planDir(root, '', true, 0);
  return {
    root: rootDir,
    objects,
    runs: objects.map((o) => ({ first: o.firstCluster, count: o.clusters })),
    clustersUsed: next - 2,
  };
}
