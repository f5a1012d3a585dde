/**
 * The walk every pass of the ext4 writer makes over the tree, and what the first pass
 * keeps of it. Inodes are numbered depth-first, names sorted bytewise, as `mke2fs -d`
 * numbers them: the root is 2, lost+found 11, the tree from 12. The first pass records
 * only compact arrays (blocks per inode, which inodes are directories, each directory's
 * children's inode numbers, hard-link groups); later passes walk the tree again and get
 * the same numbers, so memory does not grow with the files' metadata.
 */
import { ImageError } from '../../core/errors.js';
import { childrenOf, namedChildrenOf, type DirNode, type TreeNode } from '../tree.js';
import { directoryBlocks, isIndexed } from './dir-layout.js';
import { FT_DIR, FT_REG, FT_SYMLINK, type DirEntry } from './directory.js';

export const ROOT_INO = 2;
export const JOURNAL_INO = 8;
export const FIRST_INO = 11;
const LOST_AND_FOUND_BLOCKS = 4;
const MAX_NAME = 255;
const FAST_SYMLINK_MAX = 59;

/**
 * A typed array in fixed chunks: growing never copies and never holds more than one
 * chunk beyond what is used, so a closure's per-inode numbers cost their size.
 */
export class Growable<T extends Float64Array | Uint32Array | Uint8Array> {
  private readonly chunks: T[] = [];
  length = 0;
  constructor(private readonly make: (n: number) => T) {}
  set(index: number, value: number): void {
    const chunk = index >>> CHUNK_BITS;
    while (this.chunks.length <= chunk) this.chunks.push(this.make(CHUNK_ENTRIES));
    this.chunks[chunk]![index & (CHUNK_ENTRIES - 1)] = value;
    this.length = Math.max(this.length, index + 1);
  }
  get(index: number): number {
    return index < this.length ? this.chunks[index >>> CHUNK_BITS]![index & (CHUNK_ENTRIES - 1)]! : 0;
  }
}
const CHUNK_BITS = 14;
const CHUNK_ENTRIES = 1 << CHUNK_BITS;

/** Files with several names share one inode; the group's first name gets it. */
export interface LinkGroup {
  readonly ino: number;
  count: number;
}

export interface WalkItem {
  readonly ino: number;
  readonly node: TreeNode;
  readonly parentIno: number;
  /** Position of a directory in walk order (-1 for other nodes). */
  readonly dirIndex: number;
  /** A directory's children, sorted (empty for other nodes). */
  readonly children: readonly [string, TreeNode][];
  readonly path: string;
}

export interface Inventory {
  readonly root: DirNode;
  readonly lostFound: DirNode;
  readonly lastIno: number;
  /** Content blocks of each inode. */
  readonly blocks: Growable<Float64Array>;
  /** Each regular file's size when it was listed (the image must hold exactly that); a symlink's target length. */
  readonly sizes: Growable<Float64Array>;
  /** 1 for directories. */
  readonly isDir: Growable<Uint8Array>;
  /** Children's inode numbers of every directory, concatenated in walk order. */
  readonly childInos: Growable<Uint32Array>;
  /** Where each directory's children start in childInos. */
  readonly childStart: Growable<Float64Array>;
  readonly links: Map<unknown, LinkGroup>;
  readonly contentBlocks: number;
  /** s_hash_seed as the directory hash takes it (hashed directories' sizes depend on it). */
  readonly hashSeed: Uint32Array;
  /**
   * The store paths that are directories: first inode to last (their inodes are
   * consecutive). The writer places each one's directories before its other inodes.
   */
  readonly storePaths: ReadonlyMap<number, number>;
  /** What each inode's record holds besides where its blocks are, so the tables are written without a walk. */
  readonly records: InodeRecords;
}

/** Per inode: type and permission bits, owner, mtime, link count, and flags; fast symlinks' targets. */
export interface InodeRecords {
  readonly modes: Growable<Uint32Array>;
  readonly uids: Growable<Uint32Array>;
  readonly gids: Growable<Uint32Array>;
  readonly mtimes: Growable<Float64Array>;
  /** Directories' link counts (2 + subdirectories, or 1 past ext4's limit); files' are the links map's. */
  readonly directoryLinks: Growable<Uint32Array>;
  /** 1 for a directory with a hashed index. */
  readonly indexed: Growable<Uint8Array>;
  readonly fastSymlinks: Map<number, string>;
}

export const S_IFDIR = 0o040000;
const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
const MAX_LINKS = 65000;

/** The directory whose children are store paths: units a cache can keep whole. */
const STORE_DIR_PATH = '/nix/store';

const EMPTY: readonly [string, TreeNode][] = [];

/** Hard-link identity: a host file's linkKey, or the object itself in an in-memory tree. */
function linkKeyOf(node: TreeNode): unknown {
  if (node.kind !== 'file') return undefined;
  if (node.linkKey === undefined) return node;
  return node.linkKey ?? undefined;
}

function checkName(name: string, where: string): void {
  if (name.length === 0 || name.length > MAX_NAME || name.includes('/') || name.includes('\0') || name === '.' || name === '..') {
    throw new ImageError('ext4.bad-name', `Cannot store "${where}/${name.slice(0, 40)}": ext4 names are 1 to ${MAX_NAME} bytes without "/" or NUL`, {
      hint: `the name is ${name.length} bytes`,
    });
  }
}

/**
 * Depth-first walk yielding every inode once, in inode order. The first pass numbers the
 * inodes and keeps what later passes need; a later pass lists directories without their
 * children's metadata (DirNode.listNames), takes the numbers the first pass gave and
 * each file's size from it, and fails when the tree is no longer what it listed. Given
 * the store paths (Inventory.storePaths), a later pass yields none of their inodes but
 * directories (walkBelow yields them).
 */
export function* walkTree(inventory: WalkInventory, firstPass: boolean, deferStorePathFiles?: ReadonlyMap<number, number>): Generator<WalkItem> {
  const { root, lostFound, childInos } = inventory;
  const walk = walker(inventory, firstPass, { next: FIRST_INO + 1, dirCount: 0, slotCount: 0, deferThrough: 0 }, deferStorePathFiles);
  const rootChildren = walk.listed(root).filter(([name]) => name !== 'lost+found');
  const lostFoundChildren = walk.listed(lostFound);
  const rootIndex = walk.openDir(rootChildren, '/');
  const lostFoundIndex = walk.openDir(lostFoundChildren, '/lost+found');
  yield { ino: ROOT_INO, node: root, parentIno: ROOT_INO, dirIndex: rootIndex, children: rootChildren, path: '' };
  yield { ino: FIRST_INO, node: lostFound, parentIno: ROOT_INO, dirIndex: lostFoundIndex, children: lostFoundChildren, path: '/lost+found' };
  yield* walk.visit(rootChildren, ROOT_INO, rootIndex, '');
  yield* walk.visit(lostFoundChildren, FIRST_INO, lostFoundIndex, '/lost+found');
  if (!firstPass && walk.state.slotCount !== childInos.length) throw treeChanged('/'); // the last directory has other children now
}

/**
 * What a later pass of walkTree yields below one directory it yielded (a store path's
 * root), walking that part of the tree again: the same items with the same numbers.
 */
export function walkBelow(inventory: WalkInventory, directory: WalkItem): Generator<WalkItem> {
  const slotCount = inventory.childStart.get(directory.dirIndex) + directory.children.length;
  const state = { next: directory.ino + 1, dirCount: directory.dirIndex + 1, slotCount, deferThrough: 0 };
  return walker(inventory, false, state).visit(directory.children, directory.ino, directory.dirIndex, directory.path);
}

type WalkInventory = Pick<Inventory, 'root' | 'lostFound' | 'links' | 'childInos' | 'childStart' | 'sizes' | 'isDir' | 'records'>;

/** Where a walk is: the next new inode, directories opened, and children slots used so far. */
interface WalkState {
  next: number;
  dirCount: number;
  slotCount: number;
  /** Files up to this inode are not yielded (a store path's, walked again for them). */
  deferThrough: number;
}

function walker(inventory: WalkInventory, firstPass: boolean, state: WalkState, deferStorePathFiles?: ReadonlyMap<number, number>) {
  const { links, childInos, childStart } = inventory;
  const seenDirs = new Set<DirNode>();
  const openDir = (children: readonly unknown[], path: string): number => {
    const index = state.dirCount++;
    if (firstPass) childStart.set(index, state.slotCount);
    else if (childStart.get(index) !== state.slotCount) throw treeChanged(path); // a directory before has other children now
    state.slotCount += children.length;
    return index;
  };
  const listed = (directory: DirNode): [string, TreeNode][] => (firstPass ? childrenOf(directory) : namedChildrenOf(directory));

  function* visit(children: readonly [string, TreeNode][], parentIno: number, parentIndex: number, path: string): Generator<WalkItem> {
    const base = childStart.get(parentIndex);
    for (let i = 0; i < children.length; i++) {
      const [name, child] = children[i]!;
      if (firstPass) checkName(name, path);
      const childPath = `${path}/${name}`;
      if (child.kind === 'dir') {
        if (firstPass && child.list === undefined) {
          if (seenDirs.has(child)) throw new ImageError('ext4.dir-hard-link', `Cannot store "${childPath}": a directory appears twice in the tree`);
          seenDirs.add(child);
        }
        const ino = state.next++;
        if (firstPass) childInos.set(base + i, ino);
        else if (childInos.get(base + i) !== ino || inventory.isDir.get(ino) !== 1) throw treeChanged(childPath);
        const storePathEnd = deferStorePathFiles?.get(ino);
        if (storePathEnd !== undefined) state.deferThrough = storePathEnd;
        const grandchildren = listed(child);
        const index = openDir(grandchildren, childPath);
        yield { ino, node: child, parentIno, dirIndex: index, children: grandchildren, path: childPath };
        yield* visit(grandchildren, ino, index, childPath);
        continue;
      }
      if (!firstPass) {
        // The first pass numbered this name; a file with several names comes at its first.
        const ino = childInos.get(base + i);
        if ((inventory.records.modes.get(ino) & S_IFMT) !== (child.kind === 'file' ? S_IFREG : S_IFLNK)) throw treeChanged(childPath);
        if (ino !== state.next) continue;
        state.next++;
        if (ino <= state.deferThrough) continue;
        const node = child.kind === 'file' && child.size < 0 ? { ...child, size: inventory.sizes.get(ino) } : child;
        yield { ino, node, parentIno, dirIndex: -1, children: EMPTY, path: childPath };
        continue;
      }
      const key = linkKeyOf(child);
      let ino: number;
      let first = true;
      if (key === undefined) {
        ino = state.next++;
      } else {
        const group = links.get(key);
        if (group === undefined) {
          ino = state.next++;
          links.set(key, { ino, count: 1 });
        } else {
          group.count++;
          ino = group.ino;
          first = false;
        }
      }
      childInos.set(base + i, ino);
      if (first) yield { ino, node: child, parentIno, dirIndex: -1, children: EMPTY, path: childPath };
    }
  }
  return { state, openDir, listed, visit };
}

/** The one-line error for a tree whose names or kinds are not the first walk's any more. */
export function treeChanged(path: string): ImageError {
  return new ImageError('input.changed', `Cannot write "${path}": the tree changed during the build`, { hint: 'rebuild' });
}

/** A directory's entries: ".", "..", lost+found in the root, then its children. */
export function directoryEntries(item: WalkItem, inventory: Pick<Inventory, 'childInos' | 'childStart'>, withInodes: boolean): DirEntry[] {
  const entries: DirEntry[] = [
    { name: '.', ino: item.ino, fileType: FT_DIR },
    { name: '..', ino: item.parentIno, fileType: FT_DIR },
  ];
  if (item.ino === ROOT_INO) entries.push({ name: 'lost+found', ino: FIRST_INO, fileType: FT_DIR });
  const base = inventory.childStart.get(item.dirIndex);
  item.children.forEach(([name, child], i) => {
    entries.push({ name, ino: withInodes ? inventory.childInos.get(base + i) : 0, fileType: fileType(child) });
  });
  return entries;
}

export function fileType(node: TreeNode): number {
  return node.kind === 'dir' ? FT_DIR : node.kind === 'symlink' ? FT_SYMLINK : FT_REG;
}

export function isFastSymlink(target: string): boolean {
  return target.length <= FAST_SYMLINK_MAX;
}

/** Blocks of content an inode needs (its data, its directory blocks, a slow symlink's block). */
export function contentBlocks(item: WalkItem, inventory: Pick<Inventory, 'childInos' | 'childStart' | 'hashSeed'>, blockSize: number): number {
  const node = item.node;
  switch (node.kind) {
    case 'dir':
      return directoryBlocks(directoryEntries(item, inventory, false), blockSize, inventory.hashSeed, item.path || '/', item.ino === FIRST_INO ? LOST_AND_FOUND_BLOCKS : 1);
    case 'symlink': {
      const length = node.target.length;
      if (length === 0 || length >= blockSize) {
        throw new ImageError('ext4.bad-symlink', `Cannot store the symlink "${item.path}" whose target is ${length} bytes: ext4 holds 1 to ${blockSize - 1}`);
      }
      return isFastSymlink(node.target) ? 0 : 1;
    }
    case 'file':
      return Math.ceil(node.size / blockSize);
  }
}

/** The first pass: numbers every inode and keeps the compact arrays later passes need. */
export function takeInventory(root: DirNode, epoch: number, blockSize: number, hashSeed: Uint32Array): Inventory {
  const existing = childrenOf(root).find(([name]) => name === 'lost+found')?.[1];
  if (existing !== undefined && existing.kind !== 'dir') {
    throw new ImageError('ext4.bad-lost-found', 'Cannot create "/lost+found": the tree has a non-directory of that name');
  }
  const lostFound: DirNode = existing ?? { kind: 'dir', permissions: 0o700, uid: 0, gid: 0, mtime: epoch, entries: new Map() };
  const partial = {
    root,
    lostFound,
    links: new Map<unknown, LinkGroup>(),
    childInos: new Growable((n) => new Uint32Array(n)),
    childStart: new Growable((n) => new Float64Array(n)),
    hashSeed,
  };
  const blocks = new Growable((n) => new Float64Array(n));
  const isDir = new Growable((n) => new Uint8Array(n));
  const sizes = new Growable((n) => new Float64Array(n));
  const records: InodeRecords = {
    modes: new Growable((n) => new Uint32Array(n)),
    uids: new Growable((n) => new Uint32Array(n)),
    gids: new Growable((n) => new Uint32Array(n)),
    mtimes: new Growable((n) => new Float64Array(n)),
    directoryLinks: new Growable((n) => new Uint32Array(n)),
    indexed: new Growable((n) => new Uint8Array(n)),
    fastSymlinks: new Map(),
  };
  let lastIno = FIRST_INO;
  let total = 0;
  const storePaths = new Map<number, number>();
  let storePath: { readonly first: number; readonly prefix: string } | undefined;
  for (const item of walkTree({ ...partial, sizes, isDir, records }, true)) {
    if (storePath !== undefined && !item.path.startsWith(storePath.prefix)) {
      storePaths.set(storePath.first, lastIno);
      storePath = undefined;
    }
    if (item.node.kind === 'dir' && item.path.startsWith(`${STORE_DIR_PATH}/`) && !item.path.includes('/', STORE_DIR_PATH.length + 1)) {
      storePath = { first: item.ino, prefix: `${item.path}/` };
    }
    const node = item.node;
    records.modes.set(item.ino, (node.kind === 'dir' ? S_IFDIR : node.kind === 'symlink' ? S_IFLNK : S_IFREG) | node.permissions);
    records.uids.set(item.ino, node.uid);
    records.gids.set(item.ino, node.gid);
    records.mtimes.set(item.ino, node.mtime);
    if (node.kind === 'dir') {
      const subdirs = item.children.filter(([, child]) => child.kind === 'dir').length + (item.ino === ROOT_INO ? 1 : 0);
      records.directoryLinks.set(item.ino, 2 + subdirs >= MAX_LINKS ? 1 : 2 + subdirs);
      if (isIndexed(directoryEntries(item, partial, false), blockSize)) records.indexed.set(item.ino, 1);
    }
    if (node.kind === 'symlink' && isFastSymlink(node.target)) records.fastSymlinks.set(item.ino, node.target);
    const count = contentBlocks(item, partial, blockSize);
    blocks.set(item.ino, count);
    if (item.node.kind === 'dir') isDir.set(item.ino, 1);
    if (item.node.kind === 'file') sizes.set(item.ino, item.node.size);
    if (item.node.kind === 'symlink') sizes.set(item.ino, item.node.target.length);
    total += count;
    lastIno = Math.max(lastIno, item.ino);
  }
  if (storePath !== undefined) storePaths.set(storePath.first, lastIno);
  return { ...partial, lastIno, blocks, isDir, sizes, contentBlocks: total, storePaths, records };
}
