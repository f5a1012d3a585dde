/**
 * The ext4 writer: lays out a tree as a complete filesystem (4 KiB blocks, extents,
 * flex_bg, 256-byte inodes, metadata_csum, a clean journal) and returns it as a sparse
 * block image. File contents are referenced by path and read once, in order, when a
 * container writes the image.
 *
 * Layout, all deterministic: superblock and group descriptors, then each flex group's
 * bitmaps and inode tables, then the journal, then directories and files in inode order
 * (depth-first, names sorted bytewise, as `mke2fs -d` numbers them), contiguous where the
 * superblock backups allow; within each store path its directories come first, so its
 * files' data is one stretch free of inode numbers.
 * A directory whose entries outgrow a block gets a hashed index, laid out as `e2fsck -D`
 * would rebuild it (dir-layout.ts).
 *
 * Memory does not grow with the tree: a first pass keeps compact arrays (inventory.ts);
 * where blocks go is a pure function of the blocks each inode needs, so the inode tables
 * and the data are re-derived, in disk order, by walking the tree again while writing.
 */
import { bytesSegment, lazySegment, type BlockImage, type Extent as ImageExtent, type Segment } from '../../core/block-image.js';
import { ImageError } from '../../core/errors.js';
import { deriveBytes } from '../../core/reproducible.js';
import { uuidToBytes } from '../../core/guid.js';
import { asciiBytes } from '../../core/struct.js';
import type { DirNode } from '../tree.js';
import {
  bitmapChecksum, checksumSeed, groupDescriptorChecksum, inodeSeed, superblockChecksum,
} from './checksums.js';
import { HASH_HALF_MD4, hashSeedWords, SIGNED_HASH } from './dir-hash.js';
import { encodeDirectory } from './dir-layout.js';
import { buildExtentTree, leafBlocksNeeded, MAX_EXTENT_BLOCKS, type Extent } from './extent.js';
import {
  BlockAllocator, BLOCK_SIZE, BLOCKS_PER_GROUP, computeGeometry, groupBlocks, LOG_GROUPS_PER_FLEX,
  usedBlocksIn, type Geometry,
} from './geometry.js';
import { BG_INODE_UNINIT, BG_INODE_ZEROED, GROUP_DESCRIPTOR_SIZE, groupDescriptorStruct } from './group-descriptor.js';
import { encodeInode, EXTENTS_FL, INDEX_FL, INODE_SIZE, type InodeFields } from './inode.js';
import {
  contentBlocks, directoryEntries, FIRST_INO, isFastSymlink, JOURNAL_INO, ROOT_INO, S_IFDIR, S_IFLNK, S_IFREG, takeInventory, treeChanged, walkBelow, walkTree,
  type Inventory, type WalkItem,
} from './inventory.js';
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

const RESERVED_PERCENT = 5;
const MIB_BLOCKS = (1 << 20) / BLOCK_SIZE;
/** Inode records per inode-table segment: 1 MiB (a multiple of the records per block). */
const INODE_TABLE_CHUNK = (1 << 20) / INODE_SIZE;

/** Where one inode's blocks go. */
interface Placement {
  readonly ino: number;
  readonly extents: readonly Extent[];
  readonly leafBlocks: readonly number[];
}

/**
 * Places every inode's blocks from one ascending cursor: the journal, then the inodes in
 * inode order, except that a store path's directories go before its other inodes, so the
 * data of its files is one stretch that holds no inode numbers (a cache can keep it whole
 * when other paths change). Yields the placements in inode order; undefined once the
 * filesystem is full.
 */
function* placements(inventory: Inventory, journalBlocks: number, allocator: BlockAllocator): Generator<Placement | undefined> {
  const place = (ino: number, count: number): Placement | undefined => {
    if (count === 0) return { ino, extents: [], leafBlocks: [] };
    const runs = allocator.allocate(count, MAX_EXTENT_BLOCKS);
    if (runs === undefined) return undefined;
    let logical = 0;
    const extents = runs.map((r) => {
      const e = { logical, start: r.start, length: r.length };
      logical += r.length;
      return e;
    });
    const leaves = leafBlocksNeeded(extents.length, BLOCK_SIZE);
    const leafRuns = leaves === 0 ? [] : allocator.allocate(leaves, 1);
    if (leafRuns === undefined) return undefined;
    return { ino, extents, leafBlocks: leafRuns.map((r) => r.start) };
  };
  const placeInode = (ino: number): Placement | undefined => place(ino, inventory.blocks.get(ino));
  yield place(JOURNAL_INO, journalBlocks);
  yield placeInode(ROOT_INO);
  for (let ino = FIRST_INO; ino <= inventory.lastIno; ino++) {
    const last = inventory.storePaths.get(ino);
    if (last === undefined) {
      yield placeInode(ino);
      continue;
    }
    const directories = new Map<number, Placement | undefined>();
    for (let i = ino; i <= last; i++) if (inventory.isDir.get(i) === 1) directories.set(i, placeInode(i));
    for (let i = ino; i <= last; i++) yield inventory.isDir.get(i) === 1 ? directories.get(i) : placeInode(i);
    ino = last;
  }
}

interface Allocation {
  readonly geometry: Geometry;
  readonly journalBlocks: number;
  readonly cursorEnd: number;
  readonly usedBlocks: number;
  readonly reservedBlocks: number;
}

/** Lays out a filesystem of `blocks` blocks, or returns undefined when it cannot hold the tree. */
function simulate(inventory: Inventory, blocks: number): Allocation | undefined {
  const geometry = computeGeometry(blocks, inventory.lastIno);
  if (geometry === undefined) return undefined;
  const journalBlocks = defaultJournalBlocks(blocks);
  const allocator = new BlockAllocator(geometry.fixed, blocks);
  for (const placement of placements(inventory, journalBlocks, allocator)) {
    if (placement === undefined) return undefined;
  }
  return {
    geometry,
    journalBlocks,
    cursorEnd: allocator.end,
    usedBlocks: usedBlocksIn(0, blocks, geometry.fixed, allocator.end),
    reservedBlocks: Math.floor((blocks * RESERVED_PERCENT) / 100),
  };
}

function roundUpToMiB(blocks: number): number {
  return Math.ceil(blocks / MIB_BLOCKS) * MIB_BLOCKS;
}

/**
 * Smallest whole-MiB block count whose free space (after the 5 % reserved for root)
 * is at least `headroomBlocks`.
 */
function autoSize(inventory: Inventory, headroomBlocks: number): { blocks: number; allocation: Allocation } {
  let blocks = roundUpToMiB(Math.ceil((inventory.contentBlocks * 1.03 + headroomBlocks + 2048) / 0.93));
  for (let attempt = 0; attempt < 64; attempt++) {
    const allocation = simulate(inventory, blocks);
    if (allocation !== undefined) {
      const deficit = allocation.usedBlocks + allocation.reservedBlocks + headroomBlocks - blocks;
      if (deficit <= 0) {
        // Try to shrink once: the first guess is deliberately generous.
        const tighter = roundUpToMiB(allocation.usedBlocks + allocation.reservedBlocks + headroomBlocks);
        if (tighter < blocks) {
          const again = simulate(inventory, tighter);
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

/** s_hash_seed, derived from the UUID. */
function hashSeed(uuid: string): Uint8Array {
  return deriveBytes(uuid, 'ext4-hash-seed', 16);
}

/**
 * The smallest size (bytes) an ext4 filesystem holding `root` can have. Its `uuid`
 * seeds the name hash, on which the packing of indexed directories depends; without
 * it the answer can be a few blocks off for trees with large directories.
 */
export function ext4MinimumBytes(root: DirNode, epoch: number, uuid: string): number {
  return autoSize(takeInventory(root, epoch, BLOCK_SIZE, hashSeedWords(hashSeed(uuid))), 0).blocks * BLOCK_SIZE;
}

export class Ext4TooSmallError extends ImageError {
  readonly neededBytes: number;
  constructor(availableBytes: number, neededBytes: number) {
    super('ext4.too-small', `Cannot fit the tree into an ext4 filesystem of ${availableBytes} bytes: it needs at least ${neededBytes} bytes`);
    this.neededBytes = neededBytes;
  }
}

export function buildExt4(root: DirNode, options: Ext4Options): Ext4Filesystem {
  if (new TextEncoder().encode(options.label).length > 16) {
    throw new ImageError('ext4.bad-label', `Cannot use the ext4 label "${options.label}": at most 16 bytes`);
  }
  const inventory = takeInventory(root, options.epoch, BLOCK_SIZE, hashSeedWords(hashSeed(options.uuid)));
  let blocks: number;
  let allocation: Allocation | undefined;
  if (options.sizeBytes === undefined) {
    ({ blocks, allocation } = autoSize(inventory, Math.ceil((options.headroomBytes ?? 0) / BLOCK_SIZE)));
  } else {
    if (options.sizeBytes % BLOCK_SIZE !== 0) {
      throw new ImageError('ext4.bad-size', `Cannot make an ext4 filesystem of ${options.sizeBytes} bytes: not a multiple of ${BLOCK_SIZE}`);
    }
    blocks = options.sizeBytes / BLOCK_SIZE;
    allocation = simulate(inventory, blocks);
    if (allocation === undefined || allocation.usedBlocks > blocks) {
      throw new Ext4TooSmallError(options.sizeBytes, autoSize(inventory, 0).blocks * BLOCK_SIZE);
    }
  }
  return emit(inventory, allocation, blocks, options);
}

/**
 * Walks the tree and the placements in step: each inode's placement in inode order, with
 * its walk item but for the files of store paths (undefined): those come from walkBelow
 * once their path's directories are written.
 */
function* placedItems(inventory: Inventory, allocation: Allocation, blocks: number): Generator<{ item: WalkItem | undefined; placement: Placement }> {
  const places = placements(inventory, allocation.journalBlocks, new BlockAllocator(allocation.geometry.fixed, blocks));
  places.next(); // the journal, placed first
  let placement = places.next().value;
  const deferred = function* (before: number): Generator<{ item: undefined; placement: Placement }> {
    while (placement !== undefined && placement.ino < before) {
      if (inventory.isDir.get(placement.ino) === 1) throw treeChanged('/');
      yield { item: undefined, placement };
      placement = places.next().value;
    }
  };
  for (const item of walkTree(inventory, false, inventory.storePaths)) {
    yield* deferred(item.ino);
    if (placement === undefined || placement.ino !== item.ino) throw treeChanged(item.path);
    checkBlocks(item, inventory);
    yield { item, placement };
    placement = places.next().value;
  }
  yield* deferred(Infinity);
}

/** Fails when an item's content takes other blocks than the first walk found. */
function checkBlocks(item: WalkItem, inventory: Inventory): void {
  // Files take their sizes from the first walk (a file's own is checked when it is opened).
  if (contentBlocks(item, inventory, BLOCK_SIZE) !== inventory.blocks.get(item.ino)) {
    throw new ImageError('input.changed', `Cannot write "${item.path}": it changed during the build`, { hint: 'rebuild' });
  }
}

function journalPlacement(inventory: Inventory, allocation: Allocation, blocks: number): Placement {
  const first = placements(inventory, allocation.journalBlocks, new BlockAllocator(allocation.geometry.fixed, blocks)).next().value;
  if (first === undefined) throw new ImageError('ext4.internal', 'Internal error: the journal does not fit');
  return first;
}

function emit(inventory: Inventory, allocation: Allocation, blocks: number, options: Ext4Options): Ext4Filesystem {
  const { geometry } = allocation;
  const { groups, inodesPerGroup: ipg } = geometry;
  const uuid = uuidToBytes(options.uuid);
  const seed = checksumSeed(uuid);
  const lastIno = inventory.lastIno;
  const journal = journalPlacement(inventory, allocation, blocks);
  const treeOf = (ino: number, p: Placement): ReturnType<typeof buildExtentTree> =>
    buildExtentTree(p.extents, p.leafBlocks, BLOCK_SIZE, inodeSeed(seed, ino, 0));

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

  const journalFields = (): InodeFields => ({
    mode: S_IFREG | 0o600, uid: 0, gid: 0, size: allocation.journalBlocks * BLOCK_SIZE, time: options.epoch, links: 1,
    sectors: (allocation.journalBlocks + journal.leafBlocks.length) * (BLOCK_SIZE / 512), flags: EXTENTS_FL, block: journal,
  });

  // Files' link counts; every other file has one name.
  const fileLinks = new Map<number, number>();
  for (const group of inventory.links.values()) fileLinks.set(group.ino, group.count);
  const { records } = inventory;

  /** An inode's record from the first pass's arrays and where its blocks went: no walk. */
  const inodeFields = (ino: number, placement: Placement): InodeFields => {
    const mode = records.modes.get(ino);
    const uid = records.uids.get(ino);
    const gid = records.gids.get(ino);
    const time = records.mtimes.get(ino);
    const sectors = (inventory.blocks.get(ino) + placement.leafBlocks.length) * (BLOCK_SIZE / 512);
    switch (mode & 0o170000) {
      case S_IFDIR: {
        const flags = EXTENTS_FL | (records.indexed.get(ino) === 1 ? INDEX_FL : 0);
        return { mode, uid, gid, time, size: inventory.blocks.get(ino) * BLOCK_SIZE, links: records.directoryLinks.get(ino), sectors, flags, block: placement };
      }
      case S_IFLNK: {
        const fast = records.fastSymlinks.get(ino);
        return fast === undefined
          ? { mode, uid, gid, time, size: inventory.sizes.get(ino), links: 1, sectors, flags: EXTENTS_FL, block: placement }
          : { mode, uid, gid, time, size: fast.length, links: 1, sectors: 0, flags: 0, block: asciiBytes(fast, 60) };
      }
      default:
        return { mode, uid, gid, time, size: inventory.sizes.get(ino), links: fileLinks.get(ino) ?? 1, sectors, flags: EXTENTS_FL, block: placement };
    }
  };

  // Group descriptors and counts.
  const dirsPerGroup = new Array<number>(groups).fill(0);
  for (let ino = 1; ino <= lastIno; ino++) if (inventory.isDir.get(ino) === 1) dirsPerGroup[Math.floor((ino - 1) / ipg)]!++;
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
  const jnlBlocks = new Uint8Array(68);
  jnlBlocks.set(treeOf(JOURNAL_INO, journal).root, 0);
  const journalBytes = allocation.journalBlocks * BLOCK_SIZE;
  const jv = new DataView(jnlBlocks.buffer);
  jv.setUint32(60, Math.floor(journalBytes / 2 ** 32), true);
  jv.setUint32(64, journalBytes % 2 ** 32, true);
  const reserved = allocation.reservedBlocks;
  const label = asciiBytes(options.label, 16);
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
      s_hash_seed: hashSeed(options.uuid),
      s_def_hash_version: HASH_HALF_MD4,
      s_jnl_backup_type: 1,
      s_desc_size: GROUP_DESCRIPTOR_SIZE,
      s_default_mount_opts: 0x0c,
      s_mkfs_time: options.epoch,
      s_jnl_blocks: jnlBlocks,
      s_min_extra_isize: 32,
      s_want_extra_isize: 32,
      s_flags: SIGNED_HASH,
      s_log_groups_per_flex: LOG_GROUPS_PER_FLEX,
      s_checksum_type: 1,
    }, new Uint8Array(SUPERBLOCK_SIZE));
    superblockStruct.encode({ s_checksum: superblockChecksum(sb) }, sb);
    return sb;
  };

  const at = (block: number): number => block * BLOCK_SIZE;
  const fixedMetadata: Segment[] = [bytesSegment(1024, superblock(0)), bytesSegment(at(1), gdt)];
  for (const g of geometry.backupGroups) {
    if (g === 0) continue;
    fixedMetadata.push(bytesSegment(at(g * BLOCKS_PER_GROUP), superblock(g)));
    fixedMetadata.push(bytesSegment(at(g * BLOCKS_PER_GROUP + 1), gdt));
  }

  type GroupMetadata = ImageExtent & ({ readonly kind: 'block bitmap' | 'inode bitmap'; readonly group: number }
    | { readonly kind: 'inode table'; readonly group: number; readonly first: number; readonly count: number });
  /** Each group's bitmaps, and its inode table's used part a chunk at a time, in group order. */
  function* groupMetadata(): Generator<GroupMetadata> {
    for (let g = 0; g < groups; g++) {
      const meta = geometry.group[g]!;
      yield { kind: 'block bitmap', group: g, offset: at(meta.blockBitmap), length: BLOCK_SIZE };
      yield { kind: 'inode bitmap', group: g, offset: at(meta.inodeBitmap), length: BLOCK_SIZE };
      // A group's table can be several MiB: it is produced a chunk at a time so the
      // peak memory does not grow with the inodes per group.
      const used = inodesUsedIn(g);
      for (let first = 0; first < used; first += INODE_TABLE_CHUNK) {
        const count = Math.min(INODE_TABLE_CHUNK, used - first);
        const length = Math.ceil((count * INODE_SIZE) / BLOCK_SIZE) * BLOCK_SIZE;
        yield { kind: 'inode table', group: g, first, count, offset: at(meta.inodeTable) + first * INODE_SIZE, length };
      }
    }
  }

  /**
   * What segments() covers, without walking the tree: the metadata, the journal's first
   * block, and every block from the journal's end to the cursor but the fixed ranges (each
   * of those belongs to an inode whose segments start in it).
   */
  function* coverage(): Generator<ImageExtent> {
    const extents: ImageExtent[] = [...fixedMetadata, ...groupMetadata()].map(({ offset, length }) => ({ offset, length }));
    const journalStart = journal.extents[0];
    if (journalStart !== undefined) extents.push({ offset: at(journalStart.start), length: BLOCK_SIZE });
    const journalEnd = journal.extents.reduce((end, e) => Math.max(end, e.start + e.length), 0);
    let from = journalEnd;
    for (const r of [...geometry.fixed, { start: allocation.cursorEnd, end: allocation.cursorEnd }]) {
      if (r.end <= from) continue;
      const to = Math.min(r.start, allocation.cursorEnd);
      if (to > from) extents.push({ offset: at(from), length: at(to - from) });
      from = Math.max(from, r.end);
      if (from >= allocation.cursorEnd) break;
    }
    extents.sort((a, b) => a.offset - b.offset);
    yield* extents;
  }

  function* segments(): Generator<Segment> {
    // Inode tables come before the data on the disk: they take their records from a
    // walk of their own, in inode order, as the tables are written group by group.
    const inodePlacements = placements(inventory, allocation.journalBlocks, new BlockAllocator(allocation.geometry.fixed, blocks));
    inodePlacements.next(); // the journal's, written from journalFields
    let pending = inodePlacements.next();
    // Records [first, first + count) of group g's table; called in disk order.
    const inodeTableChunk = (g: number, first: number, count: number): Uint8Array => {
      const out = new Uint8Array(Math.ceil((count * INODE_SIZE) / BLOCK_SIZE) * BLOCK_SIZE);
      const view = new DataView(out.buffer);
      for (let i = 0; i < count; i++) {
        const ino = g * ipg + first + i + 1;
        let fields: InodeFields | undefined;
        if (ino === JOURNAL_INO) {
          fields = journalFields();
        } else if (!pending.done && pending.value?.ino === ino) {
          fields = inodeFields(ino, pending.value);
          pending = inodePlacements.next();
        }
        if (fields !== undefined) encodeInode(out, view, i * INODE_SIZE, ino, fields, BLOCK_SIZE, seed);
      }
      return out;
    };

    const metadata: Segment[] = [...fixedMetadata];
    for (const part of groupMetadata()) {
      const produce = part.kind === 'inode table' ? () => inodeTableChunk(part.group, part.first, part.count)
        : part.kind === 'block bitmap' ? () => blockBitmap(part.group)
        : () => inodeBitmap(part.group);
      metadata.push(lazySegment(part.offset, part.length, produce));
    }
    metadata.sort((a, b) => a.offset - b.offset);

    // Content was allocated from an ascending cursor in inode order but for each store
    // path's directories, which came first. So the path's other inodes wait for its end:
    // each keeps its placement (a number, as nearly all have one extent) and the path is
    // walked again for them, so what waits does not grow with their metadata.
    function* content(): Generator<Segment> {
      const journalStart = journal.extents[0];
      if (journalStart !== undefined) yield bytesSegment(at(journalStart.start), encodeJournalSuperblock(BLOCK_SIZE, allocation.journalBlocks, uuid));
      let storePath: StorePathFiles | undefined;
      for (const { item, placement } of placedItems(inventory, allocation, blocks)) {
        if (item === undefined) {
          if (storePath === undefined || placement.ino > storePath.last) throw treeChanged(storePath?.root.path ?? '/');
          storePath.keep(placement);
          continue;
        }
        if (storePath !== undefined && item.ino > storePath.last) {
          yield* storePathFiles(storePath);
          storePath = undefined;
        }
        const last = inventory.storePaths.get(item.ino);
        if (last !== undefined) storePath = new StorePathFiles(item, last);
        yield* itemSegments(item, placement);
      }
      if (storePath !== undefined) yield* storePathFiles(storePath);
    }

    function* storePathFiles(storePath: StorePathFiles): Generator<Segment> {
      for (const item of walkBelow(inventory, storePath.root)) {
        if (item.node.kind === 'dir') continue;
        checkBlocks(item, inventory);
        yield* itemSegments(item, storePath.placementOf(item, inventory));
      }
    }

    function* itemSegments(item: WalkItem, placement: Placement): Generator<Segment> {
      yield* contentSegments(item, placement, inventory, seed);
      if (placement.leafBlocks.length > 0) {
        const leaves = treeOf(item.ino, placement).leaves;
        for (let i = 0; i < leaves.length; i++) yield bytesSegment(at(placement.leafBlocks[i]!), leaves[i]!);
      }
    }

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
    image: { size: sizeBytes, segments, coverage },
    usedBytes: (blocks - freeBlocksTotal) * BLOCK_SIZE,
    inodes: lastIno,
  };
}

/** Segments for an inode's content, one per extent, in disk order. */
function* contentSegments(item: WalkItem, placement: Placement, inventory: Inventory, seed: number): Generator<Segment> {
  const node = item.node;
  if (node.kind === 'dir') {
    const blocks = inventory.blocks.get(item.ino);
    let cached: Uint8Array | undefined;
    let remaining = placement.extents.length;
    const content = (): Uint8Array => {
      cached ??= encodeDirectory(directoryEntries(item, inventory, true), blocks, BLOCK_SIZE, inventory.hashSeed, inodeSeed(seed, item.ino, 0), item.path || '/');
      return cached;
    };
    for (const e of placement.extents) {
      yield lazySegment(e.start * BLOCK_SIZE, e.length * BLOCK_SIZE, () => {
        const part = content().subarray(e.logical * BLOCK_SIZE, (e.logical + e.length) * BLOCK_SIZE);
        if (--remaining === 0) cached = undefined;
        return part;
      });
    }
    return;
  }
  if (node.kind === 'symlink') {
    if (!isFastSymlink(node.target)) yield bytesSegment(placement.extents[0]!.start * BLOCK_SIZE, asciiBytes(node.target, node.target.length));
    return;
  }
  for (const e of placement.extents) {
    const from = e.logical * BLOCK_SIZE;
    const length = Math.min(e.length * BLOCK_SIZE, node.size - from);
    if (length <= 0) continue;
    const offset = e.start * BLOCK_SIZE;
    if (node.content.kind === 'host') {
      yield { offset, length, source: { kind: 'file', path: node.content.path, offset: from, size: node.size } };
    } else {
      yield bytesSegment(offset, node.content.bytes.subarray(from, from + length));
    }
  }
}

const EMPTY_PLACEMENT = -1;
const OTHER_PLACEMENT = 0;

/** The placements of a store path's files while its directories are written: a number each but for files of several extents. */
class StorePathFiles {
  /** Per inode from the root: its one extent's start + 1, EMPTY_PLACEMENT, or OTHER_PLACEMENT (in `others`). */
  private readonly starts: number[] = [];
  private readonly others = new Map<number, Placement>();
  constructor(readonly root: WalkItem, readonly last: number) {}

  keep(placement: Placement): void {
    const { ino, extents, leafBlocks } = placement;
    const single = extents.length === 1 && leafBlocks.length === 0 && extents[0]!.logical === 0;
    this.starts[ino - this.root.ino] = extents.length === 0 ? EMPTY_PLACEMENT : single ? extents[0]!.start + 1 : OTHER_PLACEMENT;
    if (extents.length > 0 && !single) this.others.set(ino, placement);
  }

  placementOf(item: WalkItem, inventory: Inventory): Placement {
    const { ino } = item;
    const start = ino <= this.last ? this.starts[ino - this.root.ino] : undefined;
    if (start === EMPTY_PLACEMENT) return { ino, extents: [], leafBlocks: [] };
    if (start !== undefined && start > 0) return { ino, extents: [{ logical: 0, start: start - 1, length: inventory.blocks.get(ino) }], leafBlocks: [] };
    const other = this.others.get(ino);
    if (other === undefined) throw treeChanged(item.path);
    return other;
  }
}
