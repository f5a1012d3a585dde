/**
 * The ext4 writer: lays out a tree as a complete filesystem (4 KiB blocks, extents,
 * flex_bg, 256-byte inodes, metadata_csum, a clean journal) and returns it as a sparse
 * block image. Only metadata is computed here; file contents are referenced by path and
 * read once, in order, when a container writes the image.
 *
 * Layout, all deterministic: superblock and group descriptors, then each flex group's
 * bitmaps and inode tables, then the journal, then directories and files in inode order
 * (depth-first, names sorted bytewise, as `mke2fs -d` numbers them), contiguous where the
 * superblock backups allow.
 */
import {
  bytesSegment, lazySegment, type BlockImage, type Segment,
} from '../../core/block-image.js';
import { ImageError } from '../../core/errors.js';
import { deriveBytes } from '../../core/reproducible.js';
import { uuidToBytes } from '../../core/guid.js';
import { asciiBytes } from '../../core/struct.js';
import type { DirNode, TreeNode } from '../tree.js';
import {
  bitmapChecksum, checksumSeed, groupDescriptorChecksum, inodeSeed, superblockChecksum,
} from './checksums.js';
import { encodeDirectory, directoryBlocks, FT_DIR, FT_REG, FT_SYMLINK, type DirEntry } from './directory.js';
import { buildExtentTree, leafBlocksNeeded, MAX_EXTENT_BLOCKS, type Extent } from './extent.js';
import {
  BlockAllocator, BLOCK_SIZE, BLOCKS_PER_GROUP, computeGeometry, groupBlocks, LOG_GROUPS_PER_FLEX,
  usedBlocksIn, type Geometry,
} from './geometry.js';
import { BG_INODE_UNINIT, BG_INODE_ZEROED, GROUP_DESCRIPTOR_SIZE, groupDescriptorStruct } from './group-descriptor.js';
import { encodeInode, EXTENTS_FL, INODE_SIZE } from './inode.js';
import { defaultJournalBlocks, encodeJournalSuperblock } from './journal.js';
import { EXT4_MAGIC, FEATURES, SUPERBLOCK_SIZE, superblockStruct } from './superblock.js';

export interface Ext4Options {
  /** Volume label, at most 16 bytes (NixOS: "nixos"). */
  readonly label: string;
  /** Filesystem UUID (text form). */
  readonly uuid: string;
  /** Timestamp for everything the writer creates itself (superblock, lost+found, journal). */
  readonly epoch: number;
  /** Exact size in bytes (a multiple of 4096); omit to size the filesystem from the tree. */
  readonly sizeBytes?: number;
  /** When sizing from the tree: free space left for the running system (default 0). */
  readonly headroomBytes?: number;
}

export interface Ext4Filesystem {
  readonly sizeBytes: number;
  readonly image: BlockImage;
  readonly usedBytes: number;
  readonly inodes: number;
}

const ROOT_INO = 2;
const JOURNAL_INO = 8;
const FIRST_INO = 11;
const LOST_AND_FOUND_BLOCKS = 4;
const RESERVED_PERCENT = 5;
const MAX_NAME = 255;
const FAST_SYMLINK_MAX = 59;
const MAX_LINKS = 65000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

type RecordKind = 'dir' | 'file' | 'fast-symlink' | 'symlink' | 'journal';

interface InodeRecord {
  readonly ino: number;
  readonly kind: RecordKind;
  readonly node: TreeNode | undefined;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly time: number;
  links: number;
  readonly size: number;
  /** Content blocks to allocate. */
  readonly blocks: number;
  readonly entries: DirEntry[] | undefined;
  extents: Extent[];
  leafBlocks: number[];
}

interface Inventory {
  /** Index = inode number; holes for the reserved inodes the writer leaves empty. */
  readonly records: (InodeRecord | undefined)[];
  readonly lastIno: number;
  readonly contentBlocks: number;
}

function fileType(node: TreeNode): number {
  return node.kind === 'dir' ? FT_DIR : node.kind === 'symlink' ? FT_SYMLINK : FT_REG;
}

/** Numbers every inode (depth-first, sorted names) and sizes directories and files. */
function takeInventory(root: DirNode, epoch: number): Inventory {
  const records: (InodeRecord | undefined)[] = [];
  const byNode = new Map<TreeNode, InodeRecord>();
  let next = FIRST_INO + 1;
  let contentBlocks = 0;

  const checkName = (name: string, where: string): void => {
    if (name.length === 0 || name.length > MAX_NAME || name.includes('/') || name.includes('\0') || name === '.' || name === '..') {
      throw new ImageError('ext4.bad-name', `Cannot store "${where}/${name.slice(0, 40)}": ext4 names are 1 to ${MAX_NAME} bytes without "/" or NUL`, {
        hint: `the name is ${name.length} bytes`,
      });
    }
  };

  const add = (record: InodeRecord): InodeRecord => {
    records[record.ino] = record;
    if (record.node !== undefined) byNode.set(record.node, record);
    contentBlocks += record.blocks;
    return record;
  };

  const leafRecord = (node: Exclude<TreeNode, DirNode>, ino: number): InodeRecord => {
    if (node.kind === 'symlink') {
      const length = node.target.length;
      if (length === 0 || length >= BLOCK_SIZE) {
        throw new ImageError('ext4.bad-symlink', `Cannot store a symlink whose target is ${length} bytes: ext4 holds 1 to ${BLOCK_SIZE - 1}`);
      }
      const fast = length <= FAST_SYMLINK_MAX;
      return {
        ino, kind: fast ? 'fast-symlink' : 'symlink', node, mode: S_IFLNK | node.permissions,
        uid: node.uid, gid: node.gid, time: node.mtime, links: 1, size: length,
        blocks: fast ? 0 : 1, entries: undefined, extents: [], leafBlocks: [],
      };
    }
    return {
      ino, kind: 'file', node, mode: S_IFREG | node.permissions, uid: node.uid, gid: node.gid,
      time: node.mtime, links: 1, size: node.size, blocks: Math.ceil(node.size / BLOCK_SIZE),
      entries: undefined, extents: [], leafBlocks: [],
    };
  };

  // Directories are recorded before their children are numbered; their entries and
  // link counts are filled in as the walk goes.
  const visitDir = (dir: DirNode, ino: number, parentIno: number, path: string, extraEntries: DirEntry[]): InodeRecord => {
    const entries: DirEntry[] = [
      { name: '.', ino, fileType: FT_DIR },
      { name: '..', ino: parentIno, fileType: FT_DIR },
      ...extraEntries,
    ];
    const record: InodeRecord = {
      ino, kind: 'dir', node: dir, mode: S_IFDIR | dir.permissions, uid: dir.uid, gid: dir.gid,
      time: dir.mtime, links: 2 + extraEntries.length, size: 0, blocks: 0, entries, extents: [], leafBlocks: [],
    };
    records[ino] = record;
    byNode.set(dir, record);
    const names = [...dir.entries.keys()].sort();
    for (const name of names) {
      if (ino === ROOT_INO && name === 'lost+found') continue;
      checkName(name, path);
      const child = dir.entries.get(name)!;
      if (child.kind === 'dir') {
        if (byNode.has(child)) {
          throw new ImageError('ext4.dir-hard-link', `Cannot store "${path}/${name}": a directory appears twice in the tree`);
        }
        const childIno = next++;
        entries.push({ name, ino: childIno, fileType: FT_DIR });
        record.links++;
        visitDir(child, childIno, ino, `${path}/${name}`, []);
      } else {
        const seen = byNode.get(child);
        if (seen !== undefined) {
          seen.links++;
          entries.push({ name, ino: seen.ino, fileType: fileType(child) });
        } else {
          const childIno = next++;
          entries.push({ name, ino: childIno, fileType: fileType(child) });
          add(leafRecord(child, childIno));
        }
      }
    }
    if (record.links >= MAX_LINKS) record.links = 1;
    const blocks = ino === FIRST_INO
      ? Math.max(LOST_AND_FOUND_BLOCKS, directoryBlocks(entries, BLOCK_SIZE))
      : directoryBlocks(entries, BLOCK_SIZE);
    const sized: InodeRecord = { ...record, blocks, size: blocks * BLOCK_SIZE };
    records[ino] = sized;
    byNode.set(dir, sized);
    contentBlocks += blocks;
    return sized;
  };

  const existingLostFound = root.entries.get('lost+found');
  const lostFound: DirNode = existingLostFound?.kind === 'dir'
    ? existingLostFound
    : { kind: 'dir', permissions: 0o700, uid: 0, gid: 0, mtime: epoch, entries: new Map() };
  if (existingLostFound !== undefined && existingLostFound.kind !== 'dir') {
    throw new ImageError('ext4.bad-lost-found', 'Cannot create "/lost+found": the tree has a non-directory of that name');
  }
  // The root's entries list lost+found right after "." and ".." (as mke2fs does), and
  // lost+found takes the first non-reserved inode, before the tree is numbered.
  const rootRecord = visitDir(root, ROOT_INO, ROOT_INO, '', [{ name: 'lost+found', ino: FIRST_INO, fileType: FT_DIR }]);
  void rootRecord;
  visitDir(lostFound, FIRST_INO, ROOT_INO, '/lost+found', []);
  return { records, lastIno: next - 1, contentBlocks };
}

interface Allocation {
  readonly geometry: Geometry;
  readonly journal: InodeRecord;
  readonly cursorEnd: number;
  readonly usedBlocks: number;
  readonly reservedBlocks: number;
}

/** Places every record's blocks in a filesystem of `blocks` blocks, or returns undefined. */
function allocate(inventory: Inventory, blocks: number, epoch: number): Allocation | undefined {
  const geometry = computeGeometry(blocks, inventory.lastIno);
  if (geometry === undefined) return undefined;
  const journalBlocks = defaultJournalBlocks(blocks);
  const allocator = new BlockAllocator(geometry.fixed, blocks);
  const place = (record: InodeRecord): boolean => {
    if (record.blocks === 0) {
      record.extents = [];
      record.leafBlocks = [];
      return true;
    }
    const runs = allocator.allocate(record.blocks, MAX_EXTENT_BLOCKS);
    if (runs === undefined) return false;
    let logical = 0;
    record.extents = runs.map((r) => {
      const e = { logical, start: r.start, length: r.length };
      logical += r.length;
      return e;
    });
    const leaves = leafBlocksNeeded(record.extents.length, BLOCK_SIZE);
    const leafRuns = leaves === 0 ? [] : allocator.allocate(leaves, 1);
    if (leafRuns === undefined) return false;
    record.leafBlocks = leafRuns.map((r) => r.start);
    return true;
  };
  const journal: InodeRecord = {
    ino: JOURNAL_INO, kind: 'journal', node: undefined, mode: S_IFREG | 0o600, uid: 0, gid: 0, time: epoch,
    links: 1, size: journalBlocks * BLOCK_SIZE, blocks: journalBlocks, entries: undefined, extents: [], leafBlocks: [],
  };
  if (!place(journal)) return undefined;
  for (const record of inventory.records) {
    if (record !== undefined && !place(record)) return undefined;
  }
  const usedBlocks = usedBlocksIn(0, blocks, geometry.fixed, allocator.end);
  return {
    geometry,
    journal,
    cursorEnd: allocator.end,
    usedBlocks,
    reservedBlocks: Math.floor((blocks * RESERVED_PERCENT) / 100),
  };
}

const MIB_BLOCKS = (1 << 20) / BLOCK_SIZE;

function roundUpToMiB(blocks: number): number {
  return Math.ceil(blocks / MIB_BLOCKS) * MIB_BLOCKS;
}

/**
 * Smallest whole-MiB block count whose free space (after the 5 % reserved for root)
 * is at least `headroomBlocks`.
 */
function autoSize(inventory: Inventory, headroomBlocks: number, epoch: number): { blocks: number; allocation: Allocation } {
  let blocks = roundUpToMiB(Math.ceil((inventory.contentBlocks * 1.03 + headroomBlocks + 2048) / 0.93));
  for (let attempt = 0; attempt < 64; attempt++) {
    const allocation = allocate(inventory, blocks, epoch);
    if (allocation !== undefined) {
      const deficit = allocation.usedBlocks + allocation.reservedBlocks + headroomBlocks - blocks;
      if (deficit <= 0) {
        // Try to shrink once: the first guess is deliberately generous.
        const tighter = roundUpToMiB(allocation.usedBlocks + allocation.reservedBlocks + headroomBlocks);
        if (tighter < blocks) {
          const again = allocate(inventory, tighter, epoch);
          if (again !== undefined && again.usedBlocks + again.reservedBlocks + headroomBlocks <= tighter) {
            return { blocks: tighter, allocation: again };
          }
        }
        return { blocks, allocation };
      }
      blocks = roundUpToMiB(blocks + deficit + Math.ceil(deficit * 0.1));
    } else {
      blocks = roundUpToMiB(blocks + Math.max(MIB_BLOCKS, Math.ceil(blocks * 0.1)));
    }
  }
  throw new ImageError('ext4.size-diverged', 'Internal error: cannot find a filesystem size that fits the tree');
}

/** The smallest size (bytes) an ext4 filesystem holding `root` can have. */
export function ext4MinimumBytes(root: DirNode, epoch: number): number {
  return autoSize(takeInventory(root, epoch), 0, epoch).blocks * BLOCK_SIZE;
}

export function buildExt4(root: DirNode, options: Ext4Options): Ext4Filesystem {
  const label = asciiBytes(options.label, 16);
  if (new TextEncoder().encode(options.label).length > 16) {
    throw new ImageError('ext4.bad-label', `Cannot use the ext4 label "${options.label}": at most 16 bytes`);
  }
  const inventory = takeInventory(root, options.epoch);
  let blocks: number;
  let allocation: Allocation | undefined;
  if (options.sizeBytes === undefined) {
    const headroom = Math.ceil((options.headroomBytes ?? 0) / BLOCK_SIZE);
    ({ blocks, allocation } = autoSize(inventory, headroom, options.epoch));
  } else {
    if (options.sizeBytes % BLOCK_SIZE !== 0) {
      throw new ImageError('ext4.bad-size', `Cannot make an ext4 filesystem of ${options.sizeBytes} bytes: not a multiple of ${BLOCK_SIZE}`);
    }
    blocks = options.sizeBytes / BLOCK_SIZE;
    allocation = allocate(inventory, blocks, options.epoch);
    if (allocation === undefined || allocation.usedBlocks > blocks) {
      const needed = autoSize(inventory, 0, options.epoch).blocks * BLOCK_SIZE;
      throw new Ext4TooSmallError(options.sizeBytes, needed);
    }
  }
  return emit(inventory, allocation, options, label);
}

export class Ext4TooSmallError extends ImageError {
  readonly neededBytes: number;
  constructor(availableBytes: number, neededBytes: number) {
    super('ext4.too-small', `Cannot fit the tree into an ext4 filesystem of ${availableBytes} bytes: it needs at least ${neededBytes} bytes`);
    this.neededBytes = neededBytes;
  }
}

function emit(inventory: Inventory, allocation: Allocation, options: Ext4Options, label: Uint8Array): Ext4Filesystem {
  const { geometry, journal } = allocation;
  const { blocks, groups, inodesPerGroup: ipg } = geometry;
  const uuid = uuidToBytes(options.uuid);
  const seed = checksumSeed(uuid);
  const records = inventory.records;
  records[JOURNAL_INO] = journal;
  const lastIno = inventory.lastIno;

  // Extent trees are rebuilt when needed (inode tables, leaf blocks) rather than kept per inode.
  const treeOf = (r: InodeRecord): ReturnType<typeof buildExtentTree> =>
    buildExtentTree(r.extents, r.leafBlocks, BLOCK_SIZE, inodeSeed(seed, r.ino, 0));

  const inodesUsedIn = (g: number): number => Math.max(0, Math.min(ipg, lastIno - g * ipg));

  const blockBitmap = (g: number): Uint8Array => {
    const bitmap = new Uint8Array(BLOCK_SIZE);
    const start = g * BLOCKS_PER_GROUP;
    const size = groupBlocks(g, blocks);
    const mark = (from: number, to: number): void => {
      for (let b = Math.max(from, start); b < Math.min(to, start + size); b++) {
        const bit = b - start;
        bitmap[bit >> 3]! |= 1 << (bit & 7);
      }
    };
    mark(0, allocation.cursorEnd);
    for (const r of geometry.fixed) if (r.end > start && r.start < start + size) mark(r.start, r.end);
    for (let bit = size; bit < BLOCKS_PER_GROUP; bit++) bitmap[bit >> 3]! |= 1 << (bit & 7);
    return bitmap;
  };

  const inodeBitmap = (g: number): Uint8Array => {
    const bitmap = new Uint8Array(BLOCK_SIZE);
    const used = inodesUsedIn(g);
    for (let bit = 0; bit < used; bit++) bitmap[bit >> 3]! |= 1 << (bit & 7);
    for (let bit = ipg; bit < BLOCK_SIZE * 8; bit++) bitmap[bit >> 3]! |= 1 << (bit & 7);
    return bitmap;
  };

  const inodeTable = (g: number): Uint8Array => {
    const used = inodesUsedIn(g);
    const out = new Uint8Array(Math.ceil((used * INODE_SIZE) / BLOCK_SIZE) * BLOCK_SIZE);
    for (let i = 0; i < used; i++) {
      const ino = g * ipg + i + 1;
      const r = records[ino];
      if (r === undefined) continue;
      const block = r.kind === 'fast-symlink'
        ? asciiBytes((r.node as { target: string }).target, 60)
        : treeOf(r).root;
      const sectors = (r.blocks + r.leafBlocks.length) * (BLOCK_SIZE / 512);
      encodeInode(out, i * INODE_SIZE, ino, {
        mode: r.mode, uid: r.uid, gid: r.gid, size: r.size, time: r.time, links: r.links,
        sectors, flags: r.kind === 'fast-symlink' ? 0 : EXTENTS_FL, block,
      }, seed);
    }
    return out;
  };

  // Group descriptors and counts.
  const dirsPerGroup = new Array<number>(groups).fill(0);
  for (const r of records) if (r?.kind === 'dir') dirsPerGroup[Math.floor((r.ino - 1) / ipg)]!++;
  const gdt = new Uint8Array(geometry.gdtBlocks * BLOCK_SIZE);
  let freeBlocksTotal = 0;
  let freeInodesTotal = 0;
  for (let g = 0; g < groups; g++) {
    const start = g * BLOCKS_PER_GROUP;
    const size = groupBlocks(g, blocks);
    const freeBlocks = size - usedBlocksIn(start, start + size, geometry.fixed, allocation.cursorEnd);
    const usedInodes = inodesUsedIn(g);
    const freeInodes = ipg - usedInodes;
    freeBlocksTotal += freeBlocks;
    freeInodesTotal += freeInodes;
    const meta = geometry.group[g]!;
    const bbCsum = bitmapChecksum(seed, blockBitmap(g), BLOCKS_PER_GROUP / 8);
    const ibCsum = bitmapChecksum(seed, inodeBitmap(g), ipg / 8);
    const at = g * GROUP_DESCRIPTOR_SIZE;
    const split = (v: number): [number, number] => [v % 2 ** 32, Math.floor(v / 2 ** 32)];
    const [bbLo, bbHi] = split(meta.blockBitmap);
    const [ibLo, ibHi] = split(meta.inodeBitmap);
    const [itLo, itHi] = split(meta.inodeTable);
    groupDescriptorStruct.encode({
      bg_block_bitmap_lo: bbLo, bg_block_bitmap_hi: bbHi,
      bg_inode_bitmap_lo: ibLo, bg_inode_bitmap_hi: ibHi,
      bg_inode_table_lo: itLo, bg_inode_table_hi: itHi,
      bg_free_blocks_count_lo: freeBlocks & 0xffff, bg_free_blocks_count_hi: freeBlocks >>> 16,
      bg_free_inodes_count_lo: freeInodes & 0xffff, bg_free_inodes_count_hi: freeInodes >>> 16,
      bg_used_dirs_count_lo: dirsPerGroup[g]! & 0xffff, bg_used_dirs_count_hi: dirsPerGroup[g]! >>> 16,
      bg_flags: BG_INODE_ZEROED | (usedInodes === 0 ? BG_INODE_UNINIT : 0),
      bg_itable_unused_lo: freeInodes & 0xffff, bg_itable_unused_hi: freeInodes >>> 16,
      bg_block_bitmap_csum_lo: bbCsum & 0xffff, bg_block_bitmap_csum_hi: bbCsum >>> 16,
      bg_inode_bitmap_csum_lo: ibCsum & 0xffff, bg_inode_bitmap_csum_hi: ibCsum >>> 16,
    }, gdt, at);
    const descriptor = gdt.subarray(at, at + GROUP_DESCRIPTOR_SIZE);
    groupDescriptorStruct.encode({ bg_checksum: groupDescriptorChecksum(seed, g, descriptor) }, gdt, at);
  }

  // Superblock, with s_jnl_blocks holding a copy of the journal inode's block map.
  const journalTree = treeOf(journal);
  const jnlBlocks = new Uint8Array(68);
  jnlBlocks.set(journalTree.root, 0);
  const jv = new DataView(jnlBlocks.buffer);
  jv.setUint32(60, Math.floor(journal.size / 2 ** 32), true);
  jv.setUint32(64, journal.size % 2 ** 32, true);
  const reserved = allocation.reservedBlocks;
  const superblock = (group: number): Uint8Array => {
    const sb = superblockStruct.encode({
      s_inodes_count: ipg * groups,
      s_blocks_count_lo: blocks % 2 ** 32, s_blocks_count_hi: Math.floor(blocks / 2 ** 32),
      s_r_blocks_count_lo: reserved % 2 ** 32, s_r_blocks_count_hi: Math.floor(reserved / 2 ** 32),
      s_free_blocks_count_lo: freeBlocksTotal % 2 ** 32, s_free_blocks_count_hi: Math.floor(freeBlocksTotal / 2 ** 32),
      s_free_inodes_count: freeInodesTotal,
      s_first_data_block: 0,
      s_log_block_size: 2,
      s_log_cluster_size: 2,
      s_blocks_per_group: BLOCKS_PER_GROUP,
      s_clusters_per_group: BLOCKS_PER_GROUP,
      s_inodes_per_group: ipg,
      s_wtime: options.epoch,
      s_max_mnt_count: 0xffff,
      s_magic: EXT4_MAGIC,
      s_state: 1,
      s_errors: 1,
      s_lastcheck: options.epoch,
      s_rev_level: 1,
      s_first_ino: FIRST_INO,
      s_inode_size: INODE_SIZE,
      s_block_group_nr: group,
      s_feature_compat: FEATURES.compat,
      s_feature_incompat: FEATURES.incompat,
      s_feature_ro_compat: FEATURES.roCompat,
      s_uuid: uuid,
      s_volume_name: label,
      s_journal_inum: JOURNAL_INO,
      s_hash_seed: deriveBytes(options.uuid, 'ext4-hash-seed', 16),
      s_def_hash_version: 1,
      s_jnl_backup_type: 1,
      s_desc_size: GROUP_DESCRIPTOR_SIZE,
      s_default_mount_opts: 0x0c,
      s_mkfs_time: options.epoch,
      s_jnl_blocks: jnlBlocks,
      s_min_extra_isize: 32,
      s_want_extra_isize: 32,
      s_flags: 1,
      s_log_groups_per_flex: LOG_GROUPS_PER_FLEX,
      s_checksum_type: 1,
    }, new Uint8Array(SUPERBLOCK_SIZE));
    superblockStruct.encode({ s_checksum: superblockChecksum(sb) }, sb);
    return sb;
  };

  const metadata: Segment[] = [];
  const at = (block: number): number => block * BLOCK_SIZE;
  metadata.push(bytesSegment(1024, superblock(0)));
  metadata.push(bytesSegment(at(1), gdt));
  for (const g of geometry.backupGroups) {
    if (g === 0) continue;
    metadata.push(bytesSegment(at(g * BLOCKS_PER_GROUP), superblock(g)));
    metadata.push(bytesSegment(at(g * BLOCKS_PER_GROUP + 1), gdt));
  }
  for (let g = 0; g < groups; g++) {
    const meta = geometry.group[g]!;
    metadata.push(lazySegment(at(meta.blockBitmap), BLOCK_SIZE, () => blockBitmap(g)));
    metadata.push(lazySegment(at(meta.inodeBitmap), BLOCK_SIZE, () => inodeBitmap(g)));
    const used = inodesUsedIn(g);
    if (used > 0) {
      metadata.push(lazySegment(at(meta.inodeTable), Math.ceil((used * INODE_SIZE) / BLOCK_SIZE) * BLOCK_SIZE, () => inodeTable(g)));
    }
  }
  metadata.sort((a, b) => a.offset - b.offset);

  // Content was allocated in this order (journal, then inode order) from an ascending
  // cursor, so this stream is already sorted by disk offset.
  function* content(): Generator<Segment> {
    const journalStart = journal.extents[0];
    if (journalStart !== undefined) yield bytesSegment(at(journalStart.start), encodeJournalSuperblock(BLOCK_SIZE, journal.blocks, uuid));
    for (const r of records) {
      if (r === undefined || r.kind === 'journal') continue;
      yield* contentSegments(r, seed);
      if (r.leafBlocks.length > 0) {
        const leaves = treeOf(r).leaves;
        for (let i = 0; i < leaves.length; i++) yield bytesSegment(at(r.leafBlocks[i]!), leaves[i]!);
      }
    }
  }

  function* segments(): Generator<Segment> {
    let m = 0;
    for (const segment of content()) {
      while (m < metadata.length && metadata[m]!.offset < segment.offset) yield metadata[m++]!;
      yield segment;
    }
    while (m < metadata.length) yield metadata[m++]!;
  }

  const sizeBytes = blocks * BLOCK_SIZE;
  return {
    sizeBytes,
    image: { size: sizeBytes, segments },
    usedBytes: (blocks - freeBlocksTotal) * BLOCK_SIZE,
    inodes: lastIno,
  };
}

/** Segments for a record's content, one per extent, in disk order. */
function* contentSegments(r: InodeRecord, seed: number): Generator<Segment> {
  const node = r.node;
  if (r.kind === 'dir') {
    const entries = r.entries!;
    let cached: Uint8Array | undefined;
    let remaining = r.extents.length;
    const content = (): Uint8Array => {
      cached ??= encodeDirectory(entries, r.blocks, BLOCK_SIZE, inodeSeed(seed, r.ino, 0));
      return cached;
    };
    for (const e of r.extents) {
      yield lazySegment(e.start * BLOCK_SIZE, e.length * BLOCK_SIZE, () => {
        const part = content().subarray(e.logical * BLOCK_SIZE, (e.logical + e.length) * BLOCK_SIZE);
        if (--remaining === 0) cached = undefined;
        return part;
      });
    }
    return;
  }
  if (r.kind === 'symlink' && node?.kind === 'symlink') {
    yield bytesSegment(r.extents[0]!.start * BLOCK_SIZE, asciiBytes(node.target, node.target.length));
    return;
  }
  if (r.kind === 'file' && node?.kind === 'file') {
    for (const e of r.extents) {
      const from = e.logical * BLOCK_SIZE;
      const length = Math.min(e.length * BLOCK_SIZE, node.size - from);
      if (length <= 0) continue;
      const offset = e.start * BLOCK_SIZE;
      if (node.content.kind === 'host') {
        yield { offset, length, source: { kind: 'file', path: node.content.path, offset: from } };
      } else {
        yield bytesSegment(offset, node.content.bytes.subarray(from, from + length));
      }
    }
  }
}
