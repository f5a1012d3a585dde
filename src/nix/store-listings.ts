/**
 * Store paths listed from the cache: with a cache, a store path that is a directory is
 * listed from the host once and its listing kept in the cache under the path and its NAR
 * hash (fs/host-listing.ts). A later build lists it from there while its directories are
 * as they were, instead of an lstat per file: a rebuild lists a whole closure in a few
 * hundred syscalls instead of one per file.
 */
import { createHash } from 'node:crypto';
import { ImageError } from '../core/errors.js';
import { LISTING_KIND, UnitCache } from '../core/unit-cache.js';
import { HostListing, type ListedFileKeys, type ListedTreeOptions } from '../fs/host-listing.js';
import { lazyHostTree, type TreeNode } from '../fs/tree.js';
import type { PathRegistration } from './registration.js';
import { STORE_DIR } from './root-tree.js';

/** Part of every listing's key: a new record layout never reads an old one's. */
const LISTING_SETTINGS = 'store path listing 1';

function listingKey(path: string, narHash: string): Buffer {
  return UnitCache.key(LISTING_SETTINGS, createHash('sha256').update(`${path}\0${narHash}`).digest());
}

/**
 * The tree of each store path of `registrations`, listed as lazyHostTree lists it, from
 * its listing in `cache` while that holds (recorded there otherwise). `linkedElsewhere`:
 * the linkKeys of the image's other host files, which a file kept with one name must not
 * have either.
 */
export function listedStorePaths(cache: UnitCache, registrations: readonly Pick<PathRegistration, 'path' | 'narHash'>[], options: ListedTreeOptions,
  linkedElsewhere: Iterable<string> = []): Map<string, TreeNode> {
  const kept = new Map<string, { readonly key: Buffer; readonly listing: HostListing; readonly keys: ListedFileKeys }>();
  const fresh = new Map<string, { readonly key: Buffer; listing: HostListing }>();
  const trees = new Map<string, TreeNode>();
  for (const { path, narHash } of registrations) {
    const key = listingKey(path, narHash);
    const entry = cache.get(key, LISTING_KIND);
    const listing = entry?.kind === 'compressed' ? HostListing.read(entry.bytes) : undefined;
    const keys = listing?.check(path);
    if (listing !== undefined && keys !== undefined) {
      kept.set(path, { key, listing, keys });
      continue;
    }
    const recorded = HostListing.record(path);
    if (recorded === undefined) trees.set(path, lazyHostTree(path, options));
    else fresh.set(path, { key, listing: recorded });
  }
  // A file kept with one name whose inode a file of the image listed with several
  // names has: it gained a name since it was recorded (fs/host-listing.ts), and its
  // store path is listed again. (Two files kept with one name cannot share an inode:
  // the later name's directory changed after the first was recorded, so the record
  // that holds it was made after, when the file had both names.)
  const linked = new Set<string>(linkedElsewhere);
  for (const { keys } of kept.values()) for (const key of keys.linked) linked.add(key);
  for (const { listing } of fresh.values()) for (const key of listing.fileKeys().linked) linked.add(key);
  for (const tree of trees.values()) if (tree.kind === 'file' && tree.linkKey != null) linked.add(tree.linkKey);
  if (linked.size > 0) {
    for (const [path, { key, listing, keys }] of kept) {
      if (!keys.single.some((key) => linked.has(key))) continue;
      kept.delete(path);
      fresh.set(path, { key, listing: HostListing.record(path) ?? listing });
    }
  }
  for (const [path, { key, listing }] of fresh) {
    cache.put(key, { kind: 'compressed', bytes: listing.bytes });
    trees.set(path, listing.tree(path, options));
  }
  for (const [path, { listing }] of kept) trees.set(path, listing.tree(path, options));
  return trees;
}

/** Where storePathTrees takes store paths from besides the host. */
export interface StorePathSources {
  /** The cache whose listings are used where they hold (listedStorePaths). */
  readonly cache?: UnitCache | undefined;
  /** The linkKeys of the image's other host files (listedStorePaths). */
  readonly linkedElsewhere?: Iterable<string>;
  /** Store paths written by this project, as trees: taken as they are. */
  readonly written?: ReadonlyMap<string, TreeNode> | undefined;
}

/**
 * The store paths of `registrations` as trees, by name in /nix/store, sorted: written
 * ones as given, the others from the cache's listings where they hold, else listed lazily from the
 * host. Each must be a top-level path of the store.
 */
export function storePathTrees(registrations: readonly Pick<PathRegistration, 'path' | 'narHash'>[], options: ListedTreeOptions,
  { cache, linkedElsewhere, written }: StorePathSources = {}): [string, TreeNode][] {
  const sorted = [...registrations].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const { path } of sorted) {
    if (!path.startsWith(`${STORE_DIR}/`) || path.slice(STORE_DIR.length + 1).includes('/')) {
      throw new ImageError('closure.bad-path', `Cannot copy "${path}": closure entries must be top-level paths of ${STORE_DIR}`);
    }
  }
  const listed = cache === undefined ? undefined : listedStorePaths(cache, sorted.filter((r) => written?.has(r.path) !== true), options, linkedElsewhere);
  return sorted.map(({ path }) => [path.slice(STORE_DIR.length + 1), written?.get(path) ?? listed?.get(path) ?? lazyHostTree(path, options)]);
}
