/**
 * The EFI side of a live ISO, as nixpkgs' iso-image.nix (25.05) builds it: GRUB assembled
 * by grub-mkimage from the system's modules with the prefix /EFI/BOOT and the modules it
 * lists, and the El Torito EFI image /boot/efi.img: a FAT volume labelled EFIBOOT (volume
 * ID 1234-5678) that holds only EFI/BOOT/{grub.cfg,BOOT<ARCH>.EFI} and rEFInd, dated 2000-01-01,
 * sized as nixpkgs sizes it (110 % of the contents, in whole MiB, plus 1 MiB).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAll } from '../core/block-image.js';
import { buildFat } from '../fs/fat/index.js';
import { dir, fileFromBytes, type NodeMeta, type TreeNode } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import { grubEfiTarget, removableEfiName } from './efi-arch.js';
import { runGrubTool } from './grub.js';
import { grubMkimageFor } from './grub-mkimage.js';

/** iso-image.nix's GRUB modules (efi_uga is added where the platform has it). */
export const ISO_GRUB_MODULES = [
  'fat', 'iso9660', 'part_gpt', 'part_msdos', 'normal', 'boot', 'linux', 'configfile', 'loopback', 'chain', 'halt',
  'efifwsetup', 'efi_gop', 'ls', 'search', 'search_label', 'search_fs_uuid', 'search_fs_file', 'echo', 'serial',
  'gfxmenu', 'gfxterm', 'gfxterm_background', 'gfxterm_menu', 'test', 'loadenv', 'all_video', 'videoinfo', 'png',
] as const;

/** The EFI architectures a live plan names (its schema's efiArch). */
const ISO_EFI_ARCHES = ['x64', 'ia32', 'aa64'] as const;
export type IsoEfiArch = (typeof ISO_EFI_ARCHES)[number];

export function isIsoEfiArch(efiArch: string): efiArch is IsoEfiArch {
  return (ISO_EFI_ARCHES as readonly string[]).includes(efiArch);
}

/** 2000-01-01 00:00:00 UTC: every date in nixpkgs' efi.img. */
const EFI_IMAGE_TIME = 946684800;
const MIB = 1 << 20;

/**
 * GRUB for the ISO, from the plan's EFI GRUB package (which must be inside the image's
 * scope), assembled by its own grub-mkimage when this machine runs it, else by `mkimage`
 * (grub-mkimage.ts).
 */
export async function isoGrubEfi(grubPackage: string, efiArch: IsoEfiArch, scope: ClosureScope, mkimage?: string): Promise<Uint8Array> {
  const target = grubEfiTarget(efiArch);
  const moduleDir = `${grubPackage}/lib/grub/${target}`;
  scope.require(moduleDir, `GRUB for ${target} from the plan`);
  const modules = [...ISO_GRUB_MODULES, ...(existsSync(`${moduleDir}/efi_uga.mod`) ? ['efi_uga'] : [])];
  const work = mkdtempSync(join(tmpdir(), 'nixos-generate-iso-grub-'));
  try {
    const output = join(work, removableEfiName(efiArch));
    await runGrubTool(grubMkimageFor(grubPackage, target, mkimage), ['--directory', moduleDir, '-o', output, '-p', '/EFI/BOOT', '-O', target, ...modules]);
    return new Uint8Array(readFileSync(output));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** nixpkgs' efi.img size: the contents in MiB (rounded up) + 10 %, cut to whole MiB, plus 1 MiB. */
export function efiImageSize(contentBytes: number): number {
  const usage = Math.ceil(contentBytes / MIB) * MIB;
  const withMargin = Math.floor((usage * 110) / 100);
  return (Math.floor(withMargin / MIB) + 1) * MIB;
}

/** A file iso-image.nix puts beside GRUB in EFI/BOOT (rEFInd). */
export interface IsoEfiFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** /boot/efi.img holding GRUB, its grub.cfg and `beside` (rEFInd), as iso-image.nix copies EFI/BOOT's grub.cfg and .efi files. */
export function efiBootImage(grubEfi: Uint8Array, grubCfg: string, efiArch: IsoEfiArch, beside: IsoEfiFile | null = null): Uint8Array {
  const meta = (permissions: number): NodeMeta => ({ permissions, uid: 0, gid: 0, mtime: EFI_IMAGE_TIME });
  const cfg = new TextEncoder().encode(grubCfg);
  const files: [string, TreeNode][] = [
    ['grub.cfg', fileFromBytes(meta(0o644), cfg)],
    [removableEfiName(efiArch), fileFromBytes(meta(0o644), grubEfi)],
  ];
  if (beside !== null) files.push([beside.name, fileFromBytes(meta(0o644), beside.bytes)]);
  const boot = dir(meta(0o755), files);
  const root = dir(meta(0o755), [['EFI', dir(meta(0o755), [['BOOT', boot]])]]);
  const size = efiImageSize(grubEfi.length + cfg.length + (beside?.bytes.length ?? 0));
  return readAll(buildFat(root, { sizeBytes: size, label: 'EFIBOOT', volumeId: 0x12345678 }));
}
