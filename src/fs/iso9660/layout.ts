/**
 * Plans the image: walks the tree once (metadata only), names every entry for the primary
 * and the Joliet tree, sizes every directory (records packed so none crosses a sector) and
 * gives every structure its sectors: descriptors from 16, the boot catalog, the four path
 * tables, the primary directories and their continuation areas, the Joliet directories,
 * then file data (boot images first) and last the deferred file.
 */
import { ImageError } from '../../core/errors.js';
import { childrenOf, type DirNode, type FileNode, type TreeNode } from '../tree.js';
import { SECTOR_SIZE, sectorsFor } from './both-endian.js';
import { recordBaseLength } from './directory-record.js';
import { compareIsoNames, isoIdentifier, isoName, makeUnique, type IsoName } from './iso-names.js';
import { jolietName, ucs2, uniqueJolietNames } from './joliet-names.js';
import { pathTableEntryLength } from './path-table.js';
import { erEntry, nmEntries, pxEntry, S_IFDIR, S_IFLNK, S_IFREG, slEntries, spEntry, tfEntry } from './rock-ridge.js';
import { areaLengths, ContinuationHeap, splitEntries, type SplitEntries } from './susp-area.js';
import { FIRST_DESCRIPTOR_SECTOR } from './volume-descriptor.js';

/** Largest extent of a multi-extent file: 4 GiB less one sector, as xorriso cuts them. */
export const MAX_EXTENT_BYTES = 0xfffff800;
/** Longest symlink target libisofs (xorriso, osirrox) reads: LIBISOFS_NODE_PATH_MAX (1,024) with its NUL. */
export const MAX_SYMLINK_TARGET_BYTES = 1023;

export interface PlannedData {
  /** What fills it: a tree file, the deferred file, or the boot catalog. */
  readonly source: { kind: 'tree'; node: FileNode } | { kind: 'deferred' } | { kind: 'catalog' };
  size: number;
  sector: number;
  nlink: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface PlannedEntry {
  readonly name: string;
  readonly iso: IsoName;
  joliet: string;
  readonly dir?: PlannedDir;
  readonly data?: PlannedData;
  readonly symlink?: { readonly target: string; readonly mode: number; readonly uid: number; readonly gid: number };
  /** Records this entry takes in the primary tree (several for a multi-extent file). */
  extentRecords: number;
  /** Rock Ridge entries of each record, placed. */
  split?: SplitEntries;
  areaPlaces: { block: number; offset: number }[];
}

export interface PlannedDir {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly parent: PlannedDir | undefined;
  readonly entries: PlannedEntry[];
  /** Same entries in Joliet order. */
  jolietEntries: PlannedEntry[];
  identifier: Uint8Array;
  jolietIdentifier: Uint8Array;
  nlink: number;
  sector: number;
  size: number;
  jolietSector: number;
  jolietSize: number;
  /** Rock Ridge of the "." and ".." records. */
  selfSplit?: SplitEntries;
  selfPlaces: { block: number; offset: number }[];
  parentSplit?: SplitEntries;
  parentPlaces: { block: number; offset: number }[];
}

export interface IsoLayout {
  readonly root: PlannedDir;
  /** Breadth-first, the path table order. */
  readonly dirs: readonly PlannedDir[];
  readonly files: readonly PlannedData[];
  readonly deferred: PlannedData | undefined;
  readonly catalog: PlannedData | undefined;
  readonly bios: PlannedData | undefined;
  readonly efi: PlannedData | undefined;
  readonly bootRecordSector: number | undefined;
  readonly jolietDescriptorSector: number;
  readonly terminatorSector: number;
  readonly catalogSector: number | undefined;
  readonly pathTableSize: number;
  readonly jolietPathTableSize: number;
  readonly pathTableSectors: { l: number; m: number; jl: number; jm: number };
  readonly heapSector: number;
  readonly heapSectors: number;
  /** First sector after all file data but the deferred file. */
  readonly dataEnd: number;
}

export interface LayoutRequest {
  readonly mtime: number;
  readonly biosPath: string | undefined;
  readonly efiPath: string | undefined;
  readonly catalogPath: string | undefined;
  readonly deferred: { readonly path: string; readonly mode: number; readonly maxBytes: number } | undefined;
}

function splitPath(path: string): { parents: string[]; leaf: string } {
  const parts = path.split('/').filter((p) => p !== '');
  const leaf = parts.pop();
  if (leaf === undefined) throw new ImageError('iso.path-invalid', `Cannot use "${path}" as a file path on the ISO`, { hint: 'give a path such as "isolinux/isolinux.bin"' });
  return { parents: parts, leaf };
}

export function extentCount(size: number): number {
  return Math.max(1, Math.ceil(size / MAX_EXTENT_BYTES));
}

export function planIso(tree: DirNode, request: LayoutRequest): IsoLayout {
  const files: PlannedData[] = [];
  const byNode = new Map<FileNode, PlannedData>();
  const byLinkKey = new Map<string, PlannedData>();
  const dirs: PlannedDir[] = [];
  const paths = new Map<string, PlannedEntry>();

  const fileData = (node: FileNode): PlannedData => {
    const known = node.linkKey != null ? byLinkKey.get(node.linkKey) : byNode.get(node);
    if (known !== undefined) {
      known.nlink++;
      return known;
    }
    const data: PlannedData = { source: { kind: 'tree', node }, size: node.size, sector: 0, nlink: 1, mode: S_IFREG | node.permissions, uid: node.uid, gid: node.gid };
    if (node.linkKey != null) byLinkKey.set(node.linkKey, data);
    else byNode.set(node, data);
    files.push(data);
    return data;
  };

  const makeDir = (node: DirNode, parent: PlannedDir | undefined): PlannedDir => ({
    mode: S_IFDIR | node.permissions, uid: node.uid, gid: node.gid, parent, entries: [], jolietEntries: [],
    identifier: Uint8Array.of(0), jolietIdentifier: Uint8Array.of(0), nlink: 2, sector: 0, size: 0, jolietSector: 0, jolietSize: 0,
    selfPlaces: [], parentPlaces: [],
  });

  const entryOf = (name: string, extra: Partial<PlannedEntry>, directory: boolean): PlannedEntry => ({
    name, iso: isoName(name, directory), joliet: jolietName(name, directory), extentRecords: 1, areaPlaces: [], ...extra,
  });

  // Depth-first, so file data follows the tree's order; directories are listed breadth-first below.
  const walk = (node: DirNode, planned: PlannedDir, path: string): void => {
    for (const [name, child] of childrenOf(node)) {
      const childPath = path === '' ? name : `${path}/${name}`;
      let entry: PlannedEntry;
      if (child.kind === 'dir') {
        const sub = makeDir(child, planned);
        planned.nlink++;
        entry = entryOf(name, { dir: sub }, true);
        planned.entries.push(entry);
        paths.set(childPath, entry);
        walk(child, sub, childPath);
        continue;
      }
      if (child.kind === 'symlink' && child.target.length > MAX_SYMLINK_TARGET_BYTES) {
        throw new ImageError('iso.symlink-too-long', `Cannot store symlink "${childPath}" on the ISO: its target is ${child.target.length} bytes, and xorriso and libisofs read at most ${MAX_SYMLINK_TARGET_BYTES}`, {
          hint: 'shorten the link target (a relative path), or leave the link out of the ISO\'s own tree',
        });
      }
      if (child.kind === 'symlink' && /\/\/|.\/$/.test(child.target)) {
        throw new ImageError('iso.symlink-unrepresentable', `Cannot store symlink "${childPath}" on the ISO: its target "${child.target.length > 80 ? `${child.target.slice(0, 77)}...` : child.target}" has an empty component ("//" or a trailing "/"), which Rock Ridge readers drop`, {
          hint: 'write the target without doubled or trailing slashes',
        });
      }
      entry = child.kind === 'file'
        ? entryOf(name, { data: fileData(child) }, false)
        : entryOf(name, { symlink: { target: (child as Extract<TreeNode, { kind: 'symlink' }>).target, mode: S_IFLNK | child.permissions, uid: child.uid, gid: child.gid } }, false);
      planned.entries.push(entry);
      paths.set(childPath, entry);
    }
  };
  const root = makeDir(tree, undefined);
  walk(tree, root, '');

  const addSynthetic = (path: string, data: PlannedData, what: string): void => {
    const { parents, leaf } = splitPath(path);
    const parentPath = parents.join('/');
    const parent = parentPath === '' ? root : paths.get(parentPath)?.dir;
    if (parent === undefined) {
      throw new ImageError('iso.path-missing', `Cannot place the ${what} at "${path}": directory "${parentPath}" is not in the tree`, { hint: 'create the directory in the tree or choose another path' });
    }
    if (parent.entries.some((e) => e.name === leaf)) {
      throw new ImageError('iso.path-taken', `Cannot place the ${what} at "${path}": the tree already has an entry there`, { hint: 'choose another path' });
    }
    const entry = entryOf(leaf, { data }, false);
    parent.entries.push(entry);
    paths.set(path.replace(/^\/+/, ''), entry);
  };

  let catalog: PlannedData | undefined;
  if (request.catalogPath !== undefined) {
    catalog = { source: { kind: 'catalog' }, size: SECTOR_SIZE, sector: 0, nlink: 1, mode: S_IFREG | 0o444, uid: 0, gid: 0 };
    addSynthetic(request.catalogPath, catalog, 'boot catalog');
  }
  let deferred: PlannedData | undefined;
  if (request.deferred !== undefined) {
    deferred = { source: { kind: 'deferred' }, size: request.deferred.maxBytes, sector: 0, nlink: 1, mode: S_IFREG | (request.deferred.mode & 0o7777), uid: 0, gid: 0 };
    addSynthetic(request.deferred.path, deferred, 'deferred file');
  }

  const bootImage = (path: string | undefined, option: string): PlannedData | undefined => {
    if (path === undefined) return undefined;
    const entry = paths.get(path.replace(/^\/+/, ''));
    if (entry?.data === undefined || entry.data.source.kind !== 'tree') {
      throw new ImageError('iso.boot-image-missing', `Cannot use "${path}" as the ${option} boot image: no such file in the tree`, { hint: 'add the file to the tree or correct the path' });
    }
    if (entry.data.size === 0) {
      throw new ImageError('iso.boot-image-empty', `Cannot use "${path}" as the ${option} boot image: it is empty`);
    }
    return entry.data;
  };
  const bios = bootImage(request.biosPath, 'BIOS');
  const efi = bootImage(request.efiPath, 'EFI');

  // Breadth-first list of directories, each one's entries in primary and Joliet order.
  const queue: PlannedDir[] = [root];
  for (let i = 0; i < queue.length; i++) {
    const d = queue[i]!;
    dirs.push(d);
    makeUnique(d.entries.map((e) => e.iso));
    d.entries.sort((a, b) => compareIsoNames(a.iso, b.iso));
    const joliet = d.entries.map((e) => e.joliet);
    uniqueJolietNames(joliet);
    d.entries.forEach((e, k) => { e.joliet = joliet[k]!; });
    d.jolietEntries = [...d.entries].sort((a, b) => (a.joliet < b.joliet ? -1 : a.joliet > b.joliet ? 1 : 0));
    for (const e of d.entries) {
      if (e.dir !== undefined) {
        e.dir.identifier = new TextEncoder().encode(isoIdentifier(e.iso));
        e.dir.jolietIdentifier = ucs2(e.joliet);
        queue.push(e.dir);
      }
    }
  }

  // Rock Ridge of every record, split between record and continuation areas.
  const heap = new ContinuationHeap();
  const place = (split: SplitEntries): { block: number; offset: number }[] => areaLengths(split).map((length) => heap.reserve(length));
  const dirEntries = (d: PlannedDir): Uint8Array[] => [pxEntry(d.mode, d.nlink, d.uid, d.gid), tfEntry(request.mtime)];
  for (const d of dirs) {
    const self = d === root ? [spEntry(), ...dirEntries(d), erEntry()] : dirEntries(d);
    d.selfSplit = splitEntries(recordBaseLength(1), self);
    d.selfPlaces = place(d.selfSplit);
    d.parentSplit = splitEntries(recordBaseLength(1), dirEntries(d.parent ?? d));
    d.parentPlaces = place(d.parentSplit);
    const sizes: number[] = [recordLength(1, d.selfSplit), recordLength(1, d.parentSplit)];
    const jolietSizes: number[] = [recordLength(1, undefined), recordLength(1, undefined)];
    for (const e of d.entries) {
      const identifierLength = isoIdentifier(e.iso).length;
      const rr: Uint8Array[] = [];
      if (e.dir !== undefined) rr.push(...dirEntries(e.dir));
      else if (e.data !== undefined) rr.push(pxEntry(e.data.mode, e.data.nlink, e.data.uid, e.data.gid), tfEntry(request.mtime));
      else rr.push(pxEntry(e.symlink!.mode, 1, e.symlink!.uid, e.symlink!.gid), tfEntry(request.mtime));
      rr.push(...nmEntries(e.name));
      if (e.symlink !== undefined) rr.push(...slEntries(e.symlink.target));
      e.split = splitEntries(recordBaseLength(identifierLength), rr);
      e.areaPlaces = place(e.split);
      e.extentRecords = e.data === undefined ? 1 : extentCount(e.data.size);
      for (let k = 0; k < e.extentRecords; k++) sizes.push(recordLength(identifierLength, e.split));
    }
    for (const e of d.jolietEntries) {
      const count = e.data === undefined ? 1 : extentCount(e.data.size);
      for (let k = 0; k < count; k++) jolietSizes.push(recordLength(e.joliet.length * 2, undefined));
    }
    d.size = packedSize(sizes);
    d.jolietSize = packedSize(jolietSizes);
  }

  const pathTableSize = dirs.reduce((n, d) => n + pathTableEntryLength(d.identifier.length), 0);
  const jolietPathTableSize = dirs.reduce((n, d) => n + pathTableEntryLength(d.jolietIdentifier.length), 0);

  let next = FIRST_DESCRIPTOR_SECTOR + 1;
  const hasBoot = bios !== undefined || efi !== undefined;
  const bootRecordSector = hasBoot ? next++ : undefined;
  const jolietDescriptorSector = next++;
  const terminatorSector = next++;
  const catalogSector = hasBoot ? next++ : undefined;
  if (catalog !== undefined) catalog.sector = catalogSector!;
  const pathTableSectors = { l: 0, m: 0, jl: 0, jm: 0 };
  pathTableSectors.l = next; next += sectorsFor(pathTableSize);
  pathTableSectors.m = next; next += sectorsFor(pathTableSize);
  pathTableSectors.jl = next; next += sectorsFor(jolietPathTableSize);
  pathTableSectors.jm = next; next += sectorsFor(jolietPathTableSize);
  for (const d of dirs) { d.sector = next; next += d.size / SECTOR_SIZE; }
  const heapSector = next;
  next += heap.sectors;
  for (const d of dirs) { d.jolietSector = next; next += d.jolietSize / SECTOR_SIZE; }

  const ordered = [...new Set([bios, efi, ...files].filter((f): f is PlannedData => f !== undefined))];
  for (const f of ordered) {
    if (f.size === 0) continue;
    f.sector = next;
    next += sectorsFor(f.size);
  }
  if (deferred !== undefined) deferred.sector = next;
  return {
    root, dirs, files: ordered, deferred, catalog, bios, efi, bootRecordSector, jolietDescriptorSector, terminatorSector, catalogSector,
    pathTableSize, jolietPathTableSize, pathTableSectors, heapSector, heapSectors: heap.sectors, dataEnd: next,
  };
}

/** A record's length with its System Use entries in place (CE included), even. */
export function recordLength(identifierLength: number, split: SplitEntries | undefined): number {
  const base = recordBaseLength(identifierLength);
  if (split === undefined) return base + (base % 2);
  const su = split.inline.reduce((n, e) => n + e.length, 0) + (split.areas.length > 0 ? 28 : 0);
  return base + su + ((base + su) % 2);
}

/** Bytes of a directory: records in order, none crossing a sector, rounded up to whole sectors. */
export function packedSize(lengths: readonly number[]): number {
  let at = 0;
  for (const length of lengths) {
    if ((at % SECTOR_SIZE) + length > SECTOR_SIZE) at = Math.ceil(at / SECTOR_SIZE) * SECTOR_SIZE;
    at += length;
  }
  return Math.max(SECTOR_SIZE, Math.ceil(at / SECTOR_SIZE) * SECTOR_SIZE);
}
