/**
 * Writes a squashfs 4.0 filesystem of a tree into an output file at a given position, in
 * mksquashfs's layout: superblock, compressor options, data blocks and fragment blocks,
 * then the inode, directory, fragment, export and id tables, padded to 4 KiB.
 *
 * Two walks over the tree: the first reads every file once and writes the data (and
 * counts hard links, so each inode's link count is known); the second writes the inodes
 * and directories, children before their directory, numbering inodes in walk order.
 * Everything comes from the tree and the options, in sorted order, so the bytes do not
 * depend on the thread count or timing.
 */
import { availableParallelism } from 'node:os';
import { ImageError, UsageError } from '../../core/errors.js';
import type { OutputFile } from '../../core/output-file.js';
import { checkpoint, type RunControl } from '../../core/progress.js';
import type { UnitCache } from '../../core/unit-cache.js';
import { childrenOf, type DirNode, type FileNode, type TreeNode } from '../tree.js';
import { blockCodec, compressionId, compressorOptions, type SquashfsCompression } from './codec.js';
import { DataWriter } from './data.js';
import { PathUnits, type FileEvent } from './path-unit.js';
import { BlocksAhead } from './blocks-ahead.js';
import { checkName, writeListing, type DirectoryEntry } from './directory.js';
import { encodeFragmentTable } from './fragment-table.js';
import { IdTable } from './id-table.js';
import { encodeDirectoryInode, encodeFileInode, encodeSymlinkInode, ENTRY_TYPE, type InodeHeader } from './inode.js';
import { encodeLookupTable } from './lookup-table.js';
import { inodeReference, MetadataWriter, rawMetadataBlock, type MetadataPosition } from './metadata.js';
import { encodeSuperblock, FLAG, SUPERBLOCK } from './superblock.js';

export interface SquashfsOptions {
  readonly compression: SquashfsCompression;
  /** Default: zstd 19 (nixpkgs' ISO default), gzip 9. */
  readonly level?: number;
  /** xz only (mksquashfs's -Xdict-size): default the block size. */
  readonly dictionarySize?: number;
  /** Default 128 KiB; a power of two from 4 KiB to 1 MiB. */
  readonly blockSize?: number;
  /** SOURCE_DATE_EPOCH: the superblock's mkfs time and every inode's mtime. */
  readonly mtime: number;
  /** Default os.availableParallelism(); never changes the bytes. */
  readonly threads?: number;
  /** Compressed blocks looked up before compressing and stored after (`--cache`); never changes the bytes. */
  readonly cache?: UnitCache | undefined;
  /**
   * With a cache: entries of the root whose contents are named by a digest (a store path's
   * NAR hash), cached and reused whole as units (path-unit.ts).
   */
  readonly rootIdentities?: ReadonlyMap<string, string> | undefined;
}

export const DEFAULT_BLOCK_SIZE = 128 * 1024;
const PAD = 4096;
const PHASE = 'write squashfs';

/** Writes the filesystem of `root` into `out` from byte `start`; returns its length (padded to 4 KiB as mksquashfs does). */
export async function writeSquashfs(root: DirNode, out: OutputFile, start: number, options: SquashfsOptions, control: RunControl = {}): Promise<{ bytes: number; inodes: number }> {
  const blockSize = checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE);
  const codec = blockCodec(options.compression, options.level, blockSize, options.dictionarySize);
  const mtime = checkU32('mtime', options.mtime);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UsageError('squashfs.threads', `Cannot use ${threads} threads for squashfs: expected a whole number of at least 1`);
  }

  const optionsBlock = compressorOptions(codec);
  const head = SUPERBLOCK.size + (optionsBlock === undefined ? 0 : 2 + optionsBlock.length);
  const ahead = options.cache === undefined || options.rootIdentities === undefined || codec.name === 'none' ? undefined : new BlocksAhead(options.cache, codec, blockSize);
  const data = new DataWriter(out, start, head, codec, blockSize, threads, options.cache, ahead);

  // First walk: file contents, hard link counts, the inode count.
  const links = new Map<FileNode | string, { ordinal: number; names: number }>();
  let inodeCount = 0;
  /** Counts one entry of the walk; a file's contents go through `store` unless it is another name of an earlier inode. */
  const take = async ([node, path]: WalkEntry, store: (file: FileNode, path: string) => Promise<number> | number): Promise<void> => {
    if (node.kind !== 'file') {
      inodeCount++;
      return;
    }
    const identity = linkIdentity(node);
    const known = identity === undefined ? undefined : links.get(identity);
    if (known !== undefined) {
      known.names++;
      return;
    }
    inodeCount++;
    const ordinal = await store(node, path);
    if (identity !== undefined) links.set(identity, { ordinal, names: 1 });
    control.onProgress?.({ phase: PHASE, done: data.bytesRead, total: data.bytesRead });
    if (ordinal % 256 === 0) await checkpoint(control);
  };
  const addFile = (file: FileNode, path: string): Promise<number> => data.addFile(file, path);
  const pathUnits = options.cache === undefined || options.rootIdentities === undefined ? undefined : new PathUnits(options.cache, codec, blockSize, data);
  const readTree = async (): Promise<void> => {
    // Store paths with no unit in the cache (new, or changed) have their blocks compressed
    // ahead while the others are placed (blocks-ahead.ts).
    if (pathUnits !== undefined && ahead !== undefined) {
      for (const [name, child] of childrenOf(root)) {
        const identity = options.rootIdentities?.get(name);
        if (identity === undefined || pathUnits.has(name, identity)) continue;
        ahead.anticipate(hostFiles(child, `/${name}`));
      }
    }
    for (const [name, child] of childrenOf(root)) {
      const childPath = `/${name}`;
      checkName(name, childPath);
      // Fragment blocks never span two entries of the root (two store paths), so a change
      // in one leaves the others' fragment blocks, and their cache entries, as they were.
      await data.endFragmentGroup();
      const identity = pathUnits === undefined ? undefined : options.rootIdentities?.get(name);
      if (pathUnits === undefined || identity === undefined) {
        for (const entry of walkEntries(child, childPath)) await take(entry, addFile);
        continue;
      }
      const entries = [...walkEntries(child, childPath)];
      const events = fileEvents(entries, childPath.length, (identity) => links.has(identity));
      const placed = await pathUnits.place(name, identity, events);
      if (placed !== undefined) {
        for (const entry of entries) await take(entry, placed);
        continue;
      }
      const mark = await pathUnits.begin();
      for (const entry of entries) await take(entry, addFile);
      await pathUnits.end(mark, name, identity, events);
    }
  };
  inodeCount++; // the root
  let dataEnd: number;
  try {
    await readTree();
    dataEnd = await data.finish();
  } catch (error) {
    await data.abort();
    throw error;
  } finally {
    await ahead?.close();
  }
  await checkpoint(control);

  // Second walk: inodes and directories.
  const ids = new IdTable();
  const inodes = new MetadataWriter(codec, options.cache);
  const directories = new MetadataWriter(codec, options.cache);
  const references: number[] = new Array<number>(inodeCount);
  const written = new Map<FileNode | string, { inode: MetadataPosition; number: number }>();
  let lastNumber = 0;
  let fileOrdinal = 0;
  const header = (node: TreeNode, number: number): InodeHeader => ({
    permissions: node.permissions & 0o7777,
    uidIndex: ids.indexOf(node.uid),
    gidIndex: ids.indexOf(node.gid),
    mtime,
    number,
  });
  const writeInode = (bytes: Uint8Array, number: number): MetadataPosition => {
    const position = inodes.position();
    references[number - 1] = inodeReference(position);
    inodes.write(bytes);
    return position;
  };
  const writeDirectory = (directory: DirNode, path: string, parentNumber: number | undefined): { inode: MetadataPosition; number: number } => {
    const number = ++lastNumber;
    const entries: DirectoryEntry[] = [];
    let subdirectories = 0;
    for (const [name, child] of childrenOf(directory)) {
      const childPath = `${path}/${name}`;
      if (child.kind === 'dir') {
        subdirectories++;
        const done = writeDirectory(child, childPath, number);
        entries.push({ name, type: ENTRY_TYPE.dir, ...done });
      } else if (child.kind === 'symlink') {
        const childNumber = ++lastNumber;
        entries.push({ name, type: ENTRY_TYPE.symlink, inode: writeInode(encodeSymlinkInode(header(child, childNumber), child.target), childNumber), number: childNumber });
      } else {
        const identity = linkIdentity(child);
        const earlier = identity === undefined ? undefined : written.get(identity);
        if (earlier !== undefined) {
          entries.push({ name, type: ENTRY_TYPE.file, ...earlier });
          continue;
        }
        const stored = data.files[fileOrdinal++];
        if (stored === undefined || stored.size !== child.size) {
          throw new ImageError('input.changed', `Cannot store "${childPath}": it changed while the filesystem was written`, { hint: 'rebuild from an unchanging tree' });
        }
        const childNumber = ++lastNumber;
        const linkCount = identity === undefined ? 1 : links.get(identity)!.names;
        const inode = writeInode(encodeFileInode(header(child, childNumber), { ...stored, linkCount }), childNumber);
        if (identity !== undefined) written.set(identity, { inode, number: childNumber });
        entries.push({ name, type: ENTRY_TYPE.file, inode, number: childNumber });
      }
    }
    const listing = writeListing(directories, entries);
    const inode = writeInode(encodeDirectoryInode(header(directory, number), {
      ...listing,
      linkCount: 2 + subdirectories,
      parentNumber: parentNumber ?? inodeCount + 1,
    }), number);
    return { inode, number };
  };
  const rootInode = writeDirectory(root, '', undefined);
  if (lastNumber !== inodeCount || fileOrdinal !== data.files.length) {
    throw new ImageError('input.changed', 'Cannot finish the squashfs filesystem: the tree changed between its two walks', { hint: 'rebuild from an unchanging tree' });
  }

  // Tables, back to back as the kernel checks them.
  let at = dataEnd;
  const place = (bytes: Uint8Array): number => {
    const where = at;
    out.writeAt(start + at, bytes);
    at += bytes.length;
    return where;
  };
  const inodeTableStart = place(inodes.finish());
  const directoryTableStart = place(directories.finish());
  const fragmentTable = encodeFragmentTable(codec, data.fragments, at);
  place(fragmentTable.bytes);
  const exportEntries = new Uint8Array(8 * inodeCount);
  const exportView = new DataView(exportEntries.buffer);
  references.forEach((reference, i) => exportView.setBigUint64(8 * i, BigInt(reference), true));
  const exportTable = encodeLookupTable(codec, exportEntries, at);
  place(exportTable.bytes);
  const idTable = ids.encode(codec, at);
  place(idTable.bytes);
  const bytesUsed = at;

  let flags = FLAG.duplicates | FLAG.exportable | FLAG.noXattrs;
  if (optionsBlock !== undefined) flags |= FLAG.compressorOptions;
  if (codec.name === 'none') flags |= FLAG.uncompressedInodes | FLAG.uncompressedData | FLAG.uncompressedFragments | FLAG.uncompressedIds;
  out.writeAt(start, encodeSuperblock({
    inodeCount,
    mtime,
    blockSize,
    fragmentCount: data.fragments.length,
    compressionId: compressionId(codec),
    flags,
    idCount: ids.count,
    rootInodeRef: inodeReference(rootInode.inode),
    bytesUsed,
    idTableStart: idTable.indexStart,
    inodeTableStart,
    directoryTableStart,
    fragmentTableStart: fragmentTable.indexStart,
    exportTableStart: exportTable.indexStart,
  }));
  if (optionsBlock !== undefined) out.writeAt(start + SUPERBLOCK.size, rawMetadataBlock(optionsBlock));

  // Zeros to the 4 KiB boundary, as mksquashfs pads.
  const padded = Math.ceil(bytesUsed / PAD) * PAD;
  if (padded > bytesUsed) out.writeAt(start + bytesUsed, new Uint8Array(padded - bytesUsed));
  return { bytes: padded, inodes: inodeCount };
}

/** An entry of the first walk: the node and its path. */
type WalkEntry = readonly [TreeNode, string];

/** `node` and everything below it, each directory before its children, names sorted. */
/** The files of a tree read from the host, with their listed sizes. */
function* hostFiles(node: TreeNode, path: string): Generator<{ path: string; size: number }> {
  for (const [child] of walkEntries(node, path)) {
    if (child.kind === 'file' && child.content.kind === 'host') yield { path: child.content.path, size: child.size };
  }
}

function* walkEntries(node: TreeNode, path: string): Generator<WalkEntry> {
  yield [node, path];
  if (node.kind !== 'dir') return;
  for (const [name, child] of childrenOf(node)) {
    const childPath = `${path}/${name}`;
    checkName(name, childPath);
    if (child.kind === 'dir') yield* walkEntries(child, childPath);
    else yield [child, childPath];
  }
}

/**
 * The regular files of a store path's walk, each with whether it will be taken as another
 * name of an earlier inode (`known` says so for inodes before this path).
 */
function fileEvents(entries: readonly WalkEntry[], prefix: number, known: (identity: FileNode | string) => boolean): FileEvent[] {
  const seen = new Set<FileNode | string>();
  const events: FileEvent[] = [];
  for (const [node, path] of entries) {
    if (node.kind !== 'file') continue;
    const identity = linkIdentity(node);
    const link = identity !== undefined && (known(identity) || seen.has(identity));
    if (identity !== undefined) seen.add(identity);
    events.push({ path: path.slice(prefix), node, link });
  }
  return events;
}

/** What makes two names one inode: the same FileNode object, or the same host linkKey. */
function linkIdentity(node: FileNode): FileNode | string | undefined {
  if (node.linkKey === undefined) return node;
  return node.linkKey ?? undefined;
}

function checkBlockSize(blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize < 4096 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0) {
    throw new UsageError('squashfs.block-size', `Cannot use squashfs block size ${blockSize}: expected a power of two from 4096 to 1048576`, {
      hint: '131072 is mksquashfs\'s default, 1048576 nixpkgs\'',
    });
  }
  return blockSize;
}

function checkU32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new UsageError(`squashfs.${name}`, `Cannot use squashfs ${name} ${value}: expected a whole number from 0 to 4294967295`);
  }
  return value;
}
