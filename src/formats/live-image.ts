/**
 * Builds a live ISO from a live plan, as nixpkgs' iso-image.nix and make-iso9660-image
 * lay it out, in one pass into the output file: the ISO 9660 tree (the plan's contents;
 * what iso-image.nix generates, written here: /version.txt, the isolinux and GRUB menus
 * from the bootspec, GRUB for EFI, its El Torito image /boot/efi.img and
 * /boot/grub/loopback.cfg), then the closure as /nix-store.squashfs, written straight into the
 * ISO as its last file (no intermediate file). With isoImage.compressImage the ISO is then
 * compressed with zstd into the output.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ImageError } from '../core/errors.js';
import { OutputFile } from '../core/output-file.js';
import { outputFileSink } from '../core/sink.js';
import type { UnitCache } from '../core/unit-cache.js';
import { checkpoint, progressReporter, withProgressTotal, type PhasedControl } from '../core/progress.js';
import { zstdSink } from '../compress/zstd.js';
import { copyFileInto } from '../archive/sinks.js';
import { readBootspec, type Bootspec } from '../boot/bootspec.js';
import { removableEfiName } from '../boot/efi-arch.js';
import { efiBootImage, isoGrubEfi, type IsoEfiFile } from '../boot/iso-efi.js';
import { isoBootPath, isoGrubConfig, isolinuxConfig, type IsoGrubTheme } from '../boot/iso-menus.js';
import { writeIso, type IsoOptions } from '../fs/iso9660/index.js';
import { writeSquashfs } from '../fs/squashfs/index.js';
import { dir, fileFromBytes, placeNode, scanHostTree, type DirNode, type NodeMeta, type TreeNode } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import type { SystemClosure } from '../nix/root-tree.js';
import { closureBytes, storeSquashfsOptions, storeSquashfsTree } from '../nix/store-tree.js';
import type { LivePlan } from '../plan/types.js';

/** The squashfs on the ISO, as iso-image.nix's /nix/.ro-store mount names it. */
export const SQUASHFS_PATH = 'nix-store.squashfs';

function meta(permissions: number, epoch: number): NodeMeta {
  return { permissions, uid: 0, gid: 0, mtime: epoch };
}

function hasPath(root: DirNode, target: string): boolean {
  let node: TreeNode | undefined = root;
  for (const part of target.split('/').filter((p) => p !== '')) {
    if (node?.kind !== 'dir') return false;
    node = node.entries.get(part);
  }
  return node !== undefined;
}

/** The ISO 9660 tree without the squashfs. */
async function isoTree(plan: LivePlan, bootspec: Bootspec, scope: ClosureScope, epoch: number): Promise<DirNode> {
  const { live } = plan;
  const root = dir(meta(0o755, epoch));
  for (const { source, target } of live.contents) {
    scope.require(source, `the file for "${target}" (isoImage.contents)`);
    // Owned by root, as xorriso -r makes them.
    placeNode(root, target, scanHostTree(source, { maxTime: epoch, uid: 0, gid: 0 }), meta(0o755, epoch));
  }
  // The menus load each entry's kernel and initrd from /boot/<store path>/ (iso-image.nix
  // 25.05+ puts them there through isoImage.contents; 24.11 used /boot/bzImage): make
  // sure every file a menu names is on the ISO.
  for (const entry of [bootspec, ...bootspec.specialisations.values()]) {
    for (const file of [entry.kernel, ...(entry.initrd === undefined ? [] : [entry.initrd])]) {
      if (!hasPath(root, isoBootPath(file))) {
        scope.require(file, `the boot file "${file}" of "${entry.toplevel}"`);
        placeNode(root, isoBootPath(file), scanHostTree(file, { maxTime: epoch, uid: 0, gid: 0 }), meta(0o755, epoch));
      }
    }
  }
  // iso-image.nix's /version.txt: the system's label.
  placeNode(root, '/version.txt', fileFromBytes(meta(0o444, epoch), live.menu.label), meta(0o755, epoch));
  if (live.bios !== null) {
    for (const file of ['isolinux.bin', 'ldlinux.c32']) {
      const path = `${live.bios.syslinux}/share/syslinux/${file}`;
      scope.require(path, `syslinux's ${file}`);
    }
    if (!live.contents.some((c) => c.target === '/isolinux')) {
      placeNode(root, '/isolinux', scanHostTree(`${live.bios.syslinux}/share/syslinux`, { maxTime: epoch, uid: 0, gid: 0 }), meta(0o755, epoch));
    }
    placeNode(root, '/isolinux/isolinux.cfg', fileFromBytes(meta(0o444, epoch), isolinuxConfig(bootspec, live.menu)), meta(0o755, epoch));
  }
  if (live.efi !== null) {
    const refind = isoRefind(live.efi.refind ?? null, scope);
    const grubCfg = isoGrubConfig(bootspec, live.menu, grubTheme(live.contents, scope), refind?.name ?? null);
    const grubEfi = await isoGrubEfi(live.efi.grub, live.efi.efiArch, scope, live.efi.mkimage);
    placeNode(root, '/EFI/nixos-installer-image', fileFromBytes(meta(0o444, epoch), new Uint8Array()), meta(0o755, epoch));
    placeNode(root, `/EFI/BOOT/${removableEfiName(live.efi.efiArch)}`, fileFromBytes(meta(0o444, epoch), grubEfi), meta(0o755, epoch));
    if (refind !== null) placeNode(root, `/EFI/BOOT/${refind.name}`, fileFromBytes(meta(0o444, epoch), refind.bytes), meta(0o755, epoch));
    placeNode(root, '/EFI/BOOT/grub.cfg', fileFromBytes(meta(0o444, epoch), grubCfg), meta(0o755, epoch));
    // The font the 't' (text mode) hotkey loads, from the same GRUB.
    const font = `${live.efi.grub}/share/grub/unicode.pf2`;
    scope.require(font, 'GRUB\'s unicode.pf2 from the plan');
    placeNode(root, '/EFI/BOOT/unicode.pf2', scanHostTree(font, { maxTime: epoch, uid: 0, gid: 0 }), meta(0o755, epoch));
    // For GRUBs that boot the ISO file itself (loopback), as iso-image.nix provides.
    placeNode(root, '/boot/grub/loopback.cfg', fileFromBytes(meta(0o444, epoch), 'source /EFI/BOOT/grub.cfg'), meta(0o755, epoch));
    placeNode(root, '/boot/efi.img', fileFromBytes(meta(0o444, epoch), efiBootImage(grubEfi, grubCfg, live.efi.efiArch, refind)), meta(0o755, epoch));
  }
  return root;
}

/** The plan's rEFInd (refind_<arch>.efi, which must be inside the image's scope), or null. */
function isoRefind(path: string | null, scope: ClosureScope): IsoEfiFile | null {
  if (path === null) return null;
  scope.require(path, 'rEFInd from the plan');
  return { name: basename(path), bytes: new Uint8Array(readFileSync(path)) };
}

/** isoImage.grubTheme, copied to /EFI/BOOT/grub-theme: its .pf2 fonts (sorted), which grub.cfg loads; null without a theme. */
function grubTheme(contents: LivePlan['live']['contents'], scope: ClosureScope): IsoGrubTheme | null {
  const theme = contents.find((c) => c.target.replace(/\/+$/, '') === '/EFI/BOOT/grub-theme');
  if (theme === undefined) return null;
  scope.require(theme.source, 'the GRUB theme (isoImage.grubTheme)');
  const fonts: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const relative = `${prefix}${entry.name}`;
      if (entry.isDirectory()) walk(join(dir, entry.name), `${relative}/`);
      else if (/\.pf2$/i.test(entry.name)) fonts.push(relative);
    }
  };
  walk(theme.source, '');
  return { fonts: fonts.sort() };
}

/** An upper bound of the squashfs's size (every byte stored, plus metadata), for the ISO's directory records. */
function squashfsBound(closure: SystemClosure): number {
  return Math.ceil(closureBytes(closure) * 1.1) + (64 << 20);
}

/** Writes the ISO into `out` (its squashfs's blocks through `cache` when given); returns the system the bootspec names. */
export async function writeLiveIso(plan: LivePlan, closure: SystemClosure, scope: ClosureScope, out: OutputFile, epoch: number, control: PhasedControl, cache?: UnitCache): Promise<{ system: string }> {
  const bootspec = readBootspec(plan.toplevel);
  const { live } = plan;
  const root = await isoTree(plan, bootspec, scope, epoch);
  const bios = live.bios;
  const options: IsoOptions = {
    volumeId: live.volumeId,
    mtime: epoch,
    applicationId: 'nixos',
    publisherId: 'nixos',
    ...(bios === null ? {} : { bios: { bootImage: 'isolinux/isolinux.bin', bootInfoTable: true, loadSectors: 4 } }),
    ...(live.efi === null ? {} : { efi: { bootImage: 'boot/efi.img' } }),
    ...(live.usb && bios !== null
      ? { hybrid: { mbrCode: isohybridMbr(`${bios.syslinux}/share/syslinux/isohdpfx.bin`, scope), gpt: live.efi !== null } }
      : {}),
  };
  const store = storeSquashfsTree(closure, epoch, cache);
  // The squashfs writer counts the bytes it has read; the closure's NAR size is about all it will read.
  const squashfsControl = withProgressTotal(control, closureBytes(closure));
  await writeIso(root, out, options, {
    path: SQUASHFS_PATH,
    mode: 0o444,
    maxBytes: squashfsBound(closure),
    write: async (file, start) => (await writeSquashfs(store, file, start, { ...storeSquashfsOptions(live.squashfs, epoch, closure), cache }, squashfsControl)).bytes,
  }, control);
  return { system: bootspec.system };
}

/**
 * isoImage.compressImage: the ISO into a scratch file beside `out` (never committed), then
 * zstd of it into `out`, as make-iso9660-image runs zstd (level 3) on the finished ISO.
 * The frames are cut by content, so `cache` holds those a change left as they were.
 */
export async function writeCompressedLiveIso(plan: LivePlan, closure: SystemClosure, scope: ClosureScope, out: OutputFile, epoch: number, control: PhasedControl, cache?: UnitCache): Promise<{ system: string }> {
  // Never committed: only its temporary file (beside the output) is used.
  const scratch = OutputFile.create(`${out.finalPath}.uncompressed`);
  try {
    const result = await writeLiveIso(plan, closure, scope, scratch, epoch, control, cache);
    const sink = zstdSink(outputFileSink(out), { level: 3, boundaries: 'content', cache });
    try {
      const size = statSync(scratch.temporaryPath).size;
      const phase = `zstd ${basename(out.finalPath)}`;
      const report = progressReporter({ ...control, phase }, phase, size);
      await copyFileInto(scratch.temporaryPath, size, sink, () => {
        report(sink.position);
        return checkpoint(control);
      });
      await sink.close();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return result;
  } finally {
    scratch.abort();
  }
}

/** The 432 bytes of syslinux's isohdpfx.bin that xorriso -isohybrid-mbr puts in sector 0. */
function isohybridMbr(path: string, scope: ClosureScope): Uint8Array {
  scope.require(path, 'syslinux\'s isohdpfx.bin');
  const bytes = new Uint8Array(readFileSync(path));
  if (bytes.length < 432) throw new ImageError('live.isohdpfx', `Cannot use "${path}" as the isohybrid MBR: it is ${bytes.length} bytes, expected at least 432`);
  return bytes.subarray(0, 432);
}
