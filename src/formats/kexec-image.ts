/**
 * Builds nixos-generators' kexec tarball (and kexec bundle) from a kexec plan. Nix has
 * built the system and the script's tools; this writes what their derivations would:
 *
 * - netboot's squashfsStore: the system's closure and its registration in a squashfs;
 * - netbootRamdisk (makeInitrdNG): the system's stage-1 initrd as it is, then a newc cpio
 *   in one zstd frame of raw blocks (or one gzip member) holding the squashfs at its store
 *   path, `nix-store.squashfs` linking to it, and the directories make-initrd-ng always
 *   creates, every mtime 1;
 * - system.build.image: kernel (nuke-refs'd), that initrd and cmdline;
 * - kexec_script: the plan's text, executable;
 *
 * then make-system-tarball of the script: its closure under nix/store with the
 * registration (NAR hashes of the written paths computed here), /kexec_nixos linking to
 * it, xz on all cores; for kexec-bundle the self-extracting stub goes first. The squashfs
 * and the ramdisk go through temporary files beside the output (a cpio member and a tar
 * member need their size first); both are removed when done.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ImageError } from '../core/errors.js';
import { OutputFile } from '../core/output-file.js';
import type { UnitCache } from '../core/unit-cache.js';
import { checkpoint, withProgressTotal, type PhasedControl } from '../core/progress.js';
import { outputFileSink } from '../core/sink.js';
import { writeCpio } from '../archive/cpio.js';
import { copyFileInto } from '../archive/sinks.js';
import { gzipSink } from '../compress/gzip.js';
import { zstdStoredFrameSink } from '../compress/zstd-stored-frame.js';
import { writeSquashfs } from '../fs/squashfs/index.js';
import { dir, ensureDir, fileFromBytes, placeNode, symlink, type DirNode, type FileNode, type NodeMeta, type TreeNode } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import { narDigest } from '../nix/nar.js';
import { nukeReferences, scanReferences } from '../nix/references.js';
import type { PathRegistration } from '../nix/registration.js';
import type { SystemClosure } from '../nix/root-tree.js';
import { closureBytes, storeSquashfsOptions, storeSquashfsTree } from '../nix/store-tree.js';
import type { KexecPlan } from '../plan/types.js';
import { archiveTarballRoot, tarballRoot } from './system-tarball.js';

/** make-initrd-ng's `touch -h -d @1` on every entry; the store's mtime too. */
const MTIME = 1;
const STORE_FILE: NodeMeta = { permissions: 0o444, uid: 0, gid: 0, mtime: MTIME };
const STORE_EXECUTABLE: NodeMeta = { ...STORE_FILE, permissions: 0o555 };
const RAMDISK_DIR: NodeMeta = { permissions: 0o755, uid: 0, gid: 0, mtime: MTIME };

export interface KexecClosures {
  /** The closure of netboot.storeContents (the system): the squashfs's. */
  readonly system: SystemClosure;
  /** The closure of the script's inputs (kexec-tools, cpio, the shell): the tarball's, with the image and the script. */
  readonly scriptInputs: SystemClosure;
}

function hostFile(path: string, meta: NodeMeta): FileNode {
  return { kind: 'file', ...meta, size: statSync(path).size, content: { kind: 'host', path } };
}

/**
 * The root makeInitrdNG archives after the prepended initrd: its skeleton, the squashfs
 * copied to its store path (mode kept: 0444) and an absolute link to it.
 */
function ramdiskTree(kexec: KexecPlan['kexec'], squashfsFile: string): DirNode {
  const link = { ...RAMDISK_DIR, permissions: 0o777 };
  const root = dir(RAMDISK_DIR);
  for (const path of kexec.ramdiskSkeleton.directories) ensureDir(root, path, RAMDISK_DIR);
  for (const { path, target } of kexec.ramdiskSkeleton.symlinks) placeNode(root, path, symlink(link, target), RAMDISK_DIR);
  placeNode(root, kexec.squashfs.path, hostFile(squashfsFile, STORE_FILE), RAMDISK_DIR);
  placeNode(root, 'nix-store.squashfs', symlink(link, kexec.squashfs.path), RAMDISK_DIR);
  return root;
}

/** A registration for a path this project wrote: its NAR hash and size, no deriver (as closureInfo lists it). */
async function registrationOf(path: string, node: TreeNode, references: readonly string[]): Promise<PathRegistration> {
  const { narHash, narSize } = await narDigest(node);
  return { path, narHash, narSize, deriver: undefined, references };
}

/** Writes the kexec tarball (or bundle) into `out` (its squashfs's blocks and its xz blocks through `cache` when given). */
export async function writeKexecImage(plan: KexecPlan, closures: KexecClosures, scope: ClosureScope, out: OutputFile, epoch: number, control: PhasedControl = {}, cache?: UnitCache): Promise<void> {
  const { kexec } = plan;
  const kernelFile = scope.require(kexec.kernel, `the kernel "${kexec.kernel}" of the kexec image`);
  const initrdFile = scope.require(kexec.initrd, `the initrd "${kexec.initrd}" of the kexec image`);
  const temporaries: OutputFile[] = [];
  const temporary = (name: string): OutputFile => {
    const file = OutputFile.create(join(dirname(out.finalPath), name));
    temporaries.push(file);
    return file;
  };
  try {
    // The squashfs of the system's closure.
    const squashfs = temporary('.kexec-squashfs.img');
    await writeSquashfs(storeSquashfsTree(closures.system, epoch, cache), squashfs, 0, { ...storeSquashfsOptions(kexec.squashfs, epoch, closures.system), cache },
      withProgressTotal(control, closureBytes(closures.system)));
    await checkpoint(control);

    // The ramdisk: the stage-1 initrd, then the compressed cpio.
    const ramdisk = temporary('.kexec-initrd');
    const target = outputFileSink(ramdisk);
    await copyFileInto(initrdFile, statSync(initrdFile).size, target);
    const { ramdiskCompression } = kexec;
    // One zstd frame (or gzip member): the kernel unpacks one per archive. The zstd frame
    // holds raw blocks cut by content (the squashfs is compressed already; compressing it
    // again would make every byte after a change differ, and with it the tarball's xz
    // blocks), so its level is not used.
    const compressor = ramdiskCompression.algorithm === 'zstd'
      ? zstdStoredFrameSink(target)
      : gzipSink(target, { level: ramdiskCompression.level });
    try {
      // nixpkgs' cpio 2.15: --reproducible gives directories two links.
      await writeCpio(ramdiskTree(kexec, squashfs.temporaryPath), compressor, { directoryLinks: 'two' });
    } catch (error) {
      await compressor.abort();
      throw error;
    }
    await compressor.close();
    await checkpoint(control);

    // system.build.image and kexec_script.
    const image = dir(STORE_EXECUTABLE, [
      ['cmdline', fileFromBytes(STORE_FILE, kexec.cmdline)],
      ['initrd', hostFile(ramdisk.temporaryPath, STORE_FILE)],
      ['kernel', fileFromBytes(STORE_FILE, nukeReferences(readFileSync(kernelFile)))],
    ]);
    const scriptBytes = new TextEncoder().encode(kexec.script.text);
    const script = fileFromBytes(STORE_EXECUTABLE, scriptBytes);
    const inputs = closures.scriptInputs.registrations;
    for (const path of [kexec.imagePath, kexec.script.path]) {
      if (inputs.some((r) => r.path === path)) {
        throw new ImageError('kexec.already-built', `Cannot write "${path}": the kexec plan names it as written here, but it is in the closure of the script's inputs`, {
          hint: 'the format module\'s scriptInputs must not include the image or the script',
        });
      }
    }
    // The image refers to nothing: its kernel is nuked, its ramdisk compressed, and
    // kexec.nix discards the context of the toplevel in cmdline.
    const registrations = [
      ...inputs,
      await registrationOf(kexec.imagePath, image, []),
      await registrationOf(kexec.script.path, script, scanReferences(scriptBytes, [...inputs.map((r) => r.path), kexec.imagePath])),
    ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const tarClosure: SystemClosure = { toplevel: plan.toplevel, registrations };
    const written = new Map<string, TreeNode>([[kexec.imagePath, image], [kexec.script.path, script]]);
    const root = tarballRoot(plan.tarball, tarClosure, scope, { written, cache });
    const stub = plan.output.stub === undefined ? undefined : new TextEncoder().encode(plan.output.stub);
    await archiveTarballRoot(root, closureBytes(tarClosure), out, control, stub, cache);
  } finally {
    for (const file of temporaries) file.abort();
  }
}
