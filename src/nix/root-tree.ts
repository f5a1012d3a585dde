/**
 * The root filesystem of a NixOS disk image, as make-disk-image leaves it: the closure
 * under /nix/store, a loaded Nix database, the system profile pointing at the toplevel,
 * /etc/NIXOS, and the empty mount points stage 1 and 2 use. Activation (/etc, users)
 * is left to the first boot, which runs it on every boot anyway.
 */
import { ImageError } from '../core/errors.js';
import { dir, ensureDir, fileFromBytes, placeNode, symlink, type DirNode, type NodeMeta } from '../fs/tree.js';
import { formatRegistration, type PathRegistration } from './registration.js';
import { buildStoreDatabase, NIX_SCHEMA_VERSION } from './store-db.js';
import type { UnitCache } from '../core/unit-cache.js';
import { storePathTrees } from './store-listings.js';

export const STORE_DIR = '/nix/store';
/** The nixbld group NixOS gives /nix/store. */
const NIXBLD_GID = 30000;

export interface SystemClosure {
  readonly toplevel: string;
  /** One record per store path of the closure (from `nix-store --dump-db`). */
  readonly registrations: readonly PathRegistration[];
}

/** Told of each file of the closure as a walk of the root tree lists it (its path on the host and size). */
export type StoreFileObserver = (hostPath: string, size: number) => void;

/** How the closure's store paths are listed. */
export interface StoreListing {
  /** Told of the closure's files as the writers' walks list them. */
  readonly onFile?: StoreFileObserver | undefined;
  /** The cache whose listings of store paths are used while they hold (nix/store-listings.ts). */
  readonly cache?: UnitCache | undefined;
}

/**
 * `boot` is the /boot directory's content when the boot files live on the root
 * filesystem (BIOS-only and bare-filesystem layouts); with an ESP, /boot is a mount point.
 * With `registrationFile` the root is what make-ext4-fs.nix makes for the sd-card images
 * instead: the store, /boot and the closure's registration at that path, which the
 * system loads on its first boot (no database, profile or mount points yet).
 */
export async function nixosRootTree(closure: SystemClosure, epoch: number, boot?: DirNode, registrationFile?: string, store: StoreListing = {}): Promise<DirNode> {
  const meta = (permissions: number, gid = 0): NodeMeta => ({ permissions, uid: 0, gid, mtime: epoch });
  if (registrationFile !== undefined) {
    const root = dir(meta(0o755));
    if (boot !== undefined) root.entries.set('boot', dir(meta(0o755), boot.entries));
    addStore(root, closure, epoch, store);
    placeNode(root, registrationFile, fileFromBytes(meta(0o644), formatRegistration(closure.registrations)), meta(0o755));
    return root;
  }
  const root = dir(meta(0o755));
  for (const name of ['dev', 'etc', 'proc', 'run', 'sys', 'var']) ensureDir(root, name, meta(0o755));
  root.entries.set('boot', dir(meta(0o755), boot?.entries ?? []));
  root.entries.set('tmp', dir(meta(0o1777)));
  ensureDir(root, 'etc', meta(0o755)).entries.set('NIXOS', fileFromBytes(meta(0o644), new Uint8Array()));

  addStore(root, closure, epoch, store);

  const db = ensureDir(root, 'nix/var/nix/db', meta(0o755));
  db.entries.set('db.sqlite', fileFromBytes(meta(0o644), await buildStoreDatabase(closure.registrations, epoch)));
  db.entries.set('schema', fileFromBytes(meta(0o644), NIX_SCHEMA_VERSION));
  const profiles = ensureDir(root, 'nix/var/nix/profiles', meta(0o755));
  profiles.entries.set('system-1-link', symlink(meta(0o777), closure.toplevel));
  profiles.entries.set('system', symlink(meta(0o777), 'system-1-link'));
  ensureDir(root, 'nix/var/nix/gcroots', meta(0o755));
  return root;
}

/**
 * /nix/store with the closure, listed lazily: the writers walk it as often as they need,
 * keeping nothing per file but, with a cache, each store path's listing (a few dozen bytes a file).
 */
function addStore(root: DirNode, closure: SystemClosure, epoch: number, { onFile, cache }: StoreListing): void {
  const meta = (permissions: number, gid = 0): NodeMeta => ({ permissions, uid: 0, gid, mtime: epoch });
  const store = ensureDir(root, 'nix', meta(0o755));
  const storeDir = dir(meta(0o1775, NIXBLD_GID));
  store.entries.set('store', storeDir);
  if (!closure.registrations.some((r) => r.path === closure.toplevel)) {
    throw new ImageError('closure.missing-toplevel', `Cannot build the root filesystem: the closure does not contain the toplevel "${closure.toplevel}"`);
  }
  for (const [name, tree] of storePathTrees(closure.registrations, { maxTime: epoch, uid: 0, gid: 0, onFile }, { cache })) storeDir.entries.set(name, tree);
}
