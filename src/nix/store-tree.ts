/**
 * The store as a live system's squashfs holds it (nixpkgs' make-squashfs): each store
 * path of the closure at the root, and nix-path-registration beside them, which NixOS
 * loads into its database at boot.
 */
import type { SquashfsOptions } from '../fs/squashfs/index.js';
import { dir, fileFromBytes, type DirNode, type NodeMeta } from '../fs/tree.js';
import { formatRegistration } from './registration.js';
import type { UnitCache } from '../core/unit-cache.js';
import { storePathTrees } from './store-listings.js';
import { STORE_DIR, type SystemClosure } from './root-tree.js';
import type { SquashfsCompressionPlan } from '../plan/types.js';

/** `cache`: the cache whose listings of store paths are used while they hold (nix/store-listings.ts). */
export function storeSquashfsTree(closure: SystemClosure, epoch: number, cache?: UnitCache): DirNode {
  const meta = (permissions: number): NodeMeta => ({ permissions, uid: 0, gid: 0, mtime: epoch });
  const root = dir(meta(0o755));
  for (const [name, tree] of storePathTrees(closure.registrations, { maxTime: epoch, uid: 0, gid: 0 }, { cache })) root.entries.set(name, tree);
  root.entries.set('nix-path-registration', fileFromBytes(meta(0o444), formatRegistration(closure.registrations)));
  return root;
}

/**
 * The squashfs writer's options for a plan's squashfs compression, dated `mtime`; each
 * store path of `closure` is named by its NAR hash, so the cache can keep it whole.
 */
export function storeSquashfsOptions(compression: SquashfsCompressionPlan, mtime: number, closure: SystemClosure): SquashfsOptions {
  return {
    rootIdentities: new Map(closure.registrations.map((r) => [r.path.slice(STORE_DIR.length + 1), `${r.narHash} ${r.narSize}`])),
    compression: compression.algorithm,
    ...(compression.level === null ? {} : { level: compression.level }),
    ...(compression.dictionarySize === undefined ? {} : { dictionarySize: compression.dictionarySize }),
    blockSize: compression.blockSize,
    mtime,
  };
}

/** The bytes of the closure's store paths (their NAR sizes): about what a writer reads. */
export function closureBytes(closure: SystemClosure): number {
  return closure.registrations.reduce((sum, r) => sum + r.narSize, 0);
}
