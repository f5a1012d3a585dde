/**
 * Builds a system tarball from a tarball plan, as nixpkgs' make-system-tarball.sh lays
 * out its root and archives it: `contents` copied (cp -a: modes and symlinks kept; parents
 * 0755), `nix/store` with the closure of `storeContents`, `nix-path-registration`, the
 * absolute symlinks, then `extraCommands` (read by the format module into rm and mkdir -p
 * steps); archived as `tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -c *`
 * (GNU format, top-level dotfiles left out as the glob leaves them) and compressed with xz
 * on all cores. Nothing is staged: the tree is described in memory (store paths listed
 * lazily) and streamed from the store into the compressor.
 */
import { ImageError } from '../core/errors.js';
import type { OutputFile } from '../core/output-file.js';
import { checkpoint, type PhasedControl } from '../core/progress.js';
import { outputFileSink } from '../core/sink.js';
import { TarWriter } from '../archive/tar.js';
import { addTree } from '../archive/tree-tar.js';
import { xzSink } from '../compress/xz.js';
import type { UnitCache } from '../core/unit-cache.js';
import { childrenOf, dir, ensureDir, fileFromBytes, lazyHostTree, placeNode, symlink, type DirNode, type NodeMeta, type TreeNode } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import { formatRegistration } from '../nix/registration.js';
import type { SystemClosure } from '../nix/root-tree.js';
import { closureBytes } from '../nix/store-tree.js';
import { storePathTrees, type StorePathSources } from '../nix/store-listings.js';
import type { TarballContentsPlan, TarballPlan } from '../plan/types.js';

/**
 * The xz block size of a tarball: blocks cut by content from 3 to 9 MiB, about 4.5 MiB on
 * average (content-cuts.ts), against xz -T's 24 MiB, so that a change costs less to
 * compress again: each small changed store path (the toplevel and the registration among
 * them) costs a block. Against blocks of 6 to 18 MiB, the lxc rebuild of the benchmark
 * took 12.3 s instead of 21.5 s for 1.2 % more bytes (docs/benchmarks.md, phase 5).
 */
export const TARBALL_XZ_BLOCK = 6 << 20;

/** make-system-tarball's tar --mtime='@1'. */
export const TARBALL_MTIME = 1;
/** Directories the build creates (mkdir -p under umask 022). */
const CREATED: NodeMeta = { permissions: 0o755, uid: 0, gid: 0, mtime: TARBALL_MTIME };

/** make-system-tarball's tar runs as root with --owner=0 --group=0 --mtime='@1'. */
const HOST_LISTING = { maxTime: TARBALL_MTIME, uid: 0, gid: 0 } as const;

function hostNode(path: string): TreeNode {
  return lazyHostTree(path, HOST_LISTING);
}

/** The node at `path` in `root`'s in-memory part, with its parent, or undefined. */
function lookUp(root: DirNode, path: string): { parent: DirNode; name: string; node: TreeNode } | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.pop();
  if (name === undefined) return undefined;
  let parent: TreeNode = root;
  for (const part of parts) {
    if (parent.kind !== 'dir' || parent.list !== undefined) return undefined;
    const next: TreeNode | undefined = parent.entries.get(part);
    if (next === undefined) return undefined;
    parent = next;
  }
  if (parent.kind !== 'dir' || parent.list !== undefined) return undefined;
  const node = parent.entries.get(name);
  return node === undefined ? undefined : { parent, name, node };
}

/** The linkKeys of the host files in `node` (the contents placed before the store). */
function* linkKeysIn(node: TreeNode): Generator<string> {
  if (node.kind === 'file' && node.linkKey != null) yield node.linkKey;
  if (node.kind === 'dir') for (const [, child] of childrenOf(node)) yield* linkKeysIn(child);
}

/**
 * The tar root make-system-tarball.sh would archive, described without copying anything:
 * every path of the closure but those `store` writes is read from the store.
 */
export function tarballRoot(tarball: TarballContentsPlan, closure: SystemClosure, scope: ClosureScope, store: Omit<StorePathSources, 'linkedElsewhere'> = {}): DirNode {
  const root = dir(CREATED);
  for (const { source, target } of tarball.contents) {
    const relative = target.replace(/^\//, '');
    const copiesEntries = source.endsWith('/.');
    const from = copiesEntries ? source.slice(0, -2) : source;
    scope.require(from, `the file for "${target}" (make-system-tarball contents)`);
    const node = hostNode(from);
    if (relative === '.' || relative === './' || relative === '') {
      if (node.kind !== 'dir') throw new ImageError('tarball.contents', `Cannot copy "${source}" to the tar root: it is not a directory`);
      for (const [name, child] of childrenOf(node)) placeNode(root, name, child, CREATED);
    } else if (copiesEntries) {
      if (node.kind !== 'dir') throw new ImageError('tarball.contents', `Cannot copy "${source}" to "${target}": it is not a directory`);
      placeNode(root, relative, dir({ permissions: node.permissions, uid: 0, gid: 0, mtime: TARBALL_MTIME }, childrenOf(node)), CREATED);
    } else {
      placeNode(root, relative, node, CREATED);
    }
  }

  const storeDir = ensureDir(root, 'nix/store', CREATED);
  for (const [name, tree] of storePathTrees(closure.registrations, HOST_LISTING, { ...store, linkedElsewhere: linkKeysIn(root) })) storeDir.entries.set(name, tree);
  // cp of closure-info's registration (a 0444 store file): empty when there are no store contents.
  root.entries.set('nix-path-registration', fileFromBytes({ ...CREATED, permissions: 0o444 }, formatRegistration(closure.registrations)));
  for (const { object, path } of tarball.symlinks) placeNode(root, path, symlink({ ...CREATED, permissions: 0o777 }, object), CREATED);

  for (const command of tarball.commands) {
    if (command.op === 'mkdir') {
      ensureDir(root, command.path, CREATED);
      continue;
    }
    const found = lookUp(root, command.path);
    if (found === undefined || found.node.kind === 'dir') {
      throw new ImageError('tarball.extra-commands', `Cannot run "rm ${command.path}" of the tarball's extraCommands: ${found === undefined ? 'there is no such file' : 'it is a directory'}`, {
        hint: 'make-system-tarball would fail the same way; fix the format module\'s extraCommands',
      });
    }
    found.parent.entries.delete(found.name);
  }
  return root;
}

/** Writes the tarball into `out` (its xz blocks through `cache` when given). */
export async function writeSystemTarball(plan: TarballPlan, closure: SystemClosure, scope: ClosureScope, out: OutputFile, control: PhasedControl = {}, cache?: UnitCache): Promise<void> {
  await archiveTarballRoot(tarballRoot(plan.tarball, closure, scope, { cache }), closureBytes(closure), out, control, undefined, cache);
}

/**
 * Archives a tar root as make-system-tarball does into `out`, after `prefix` (the
 * self-extracting stub of a kexec bundle). `total`: the bytes of its files, for progress.
 * The xz blocks end where the content says, so that after one store path changed the
 * others' blocks are the same and `cache` finds them.
 */
export async function archiveTarballRoot(root: DirNode, total: number, out: OutputFile, control: PhasedControl = {}, prefix?: Uint8Array, cache?: UnitCache): Promise<void> {
  const target = outputFileSink(out);
  if (prefix !== undefined) await target.write(prefix);
  const sink = xzSink(target, { boundaries: 'content', blockSize: TARBALL_XZ_BLOCK, cache });
  const tar = new TarWriter(sink, { mtime: TARBALL_MTIME, format: 'gnu' });
  try {
    await checkpoint(control);
    let done = 0;
    for (const [name, node] of childrenOf(root)) {
      if (name.startsWith('.')) continue; // tar -c * : the glob leaves dotfiles out
      const onProgress = control.onProgress;
      const shifted = done;
      const result = await addTree(tar, name, node, {
        ...control,
        ...(onProgress === undefined ? {} : { onProgress: (event) => onProgress({ ...event, done: shifted + event.done, total: Math.max(total, shifted + event.done) }) }),
      }, total);
      done += result.bytes;
    }
    await tar.finish();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
