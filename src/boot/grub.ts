/**
 * GRUB without grub-install, for BIOS, UEFI, both (hybrid disks) or neither (only
 * grub.cfg, for platforms whose own GRUB reads it). The images come from the system's own
 * `grub-mkimage`, each with an embedded config that finds the boot filesystem by its
 * UUID. With an ESP, everything lives on it (grub/, kernels/, EFI/BOOT/), as NixOS's
 * install-grub lays out a separate /boot; without one, /boot/grub is on the root
 * filesystem and grub.cfg loads kernels straight from /nix/store.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageError, UsageError } from '../core/errors.js';
import { dir, fileFromBytes, symlink, type DirNode } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import type { GrubPlan } from '../plan/types.js';
import { bootFileRole, commandLine, storeFileName, type BootEntry, type Bootspec } from './bootspec.js';
import { efiArchOf, grubEfiTargetOf, hasBios, removableEfiName } from './efi-arch.js';
import { espMeta, hostFile, put } from './esp-tree.js';
import { grubMkimageFor } from './grub-mkimage.js';

const BIOS_TARGET = 'i386-pc';

/** Modules built into both core images: enough to find the boot filesystem and show the menu. */
const COMMON_MODULES = [
  'part_gpt', 'part_msdos', 'fat', 'ext2', 'search', 'search_fs_uuid', 'search_label', 'normal', 'configfile',
  'linux', 'echo', 'test', 'gzio', 'serial', 'terminal',
];
export const GRUB_EFI_MODULES = [...COMMON_MODULES, 'efi_gop'] as const;
export const GRUB_BIOS_MODULES = ['biosdisk', ...COMMON_MODULES] as const;

export interface GrubLocation {
  /** Where the files go: the ESP's root, or the root filesystem (under /boot). */
  readonly on: 'esp' | 'root';
  /** UUID of that filesystem, as GRUB's search --fs-uuid matches it. */
  readonly uuid: string;
}

export interface GrubFiles {
  /** The boot filesystem's files (ESP root), or the root filesystem's /boot directory. */
  readonly tree: DirNode;
  /**
   * i386-pc core.img and boot.img, when BIOS boot is planned. core.img is still being
   * assembled (grub-mkimage runs while the caller lays out the root filesystem).
   */
  readonly bios?: { readonly core: Promise<Uint8Array>; readonly bootImg: Uint8Array };
}

function serialUnit(params: readonly string[]): { unit: number; speed: number } | undefined {
  for (const p of params) {
    const m = /^console=ttyS(\d+)(?:,(\d+))?/.exec(p);
    if (m !== null) return { unit: Number(m[1]), speed: Number(m[2] ?? 115200) };
  }
  return undefined;
}

/** Where grub.cfg finds a boot file: a copy under /kernels on an ESP, else the store path. */
function bootFilePath(path: string, on: GrubLocation['on']): string {
  return on === 'esp' ? `/kernels/${storeFileName(path)}` : path;
}

function menuEntry(entry: BootEntry, title: string, indent: string, on: GrubLocation['on']): string[] {
  return [
    `${indent}menuentry ${JSON.stringify(title)} {`,
    `${indent}  linux ${bootFilePath(entry.kernel, on)} ${commandLine(entry)}`,
    ...(entry.initrd === undefined ? [] : [`${indent}  initrd ${bootFilePath(entry.initrd, on)}`]),
    `${indent}}`,
  ];
}

/**
 * Menu names of the specialisations as NixOS's install-grub writes them: the
 * specialisation's configuration-name when it has one, else "(<name> - <date> - <version>)",
 * the date being the day of the specialisation link's mtime (1970-01-01 in the store).
 */
export function specialisationMenuNames(bootspec: Bootspec, scope: ClosureScope): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, entry] of bootspec.specialisations) {
    const text = (file: string): string | undefined => {
      const path = `${entry.toplevel}/${file}`;
      if (!existsSync(path)) return undefined;
      scope.require(path, `the ${file} of specialisation "${name}"`);
      return readFileSync(path, 'utf8').trim();
    };
    const configurationName = text('configuration-name');
    if (configurationName !== undefined && configurationName !== '') {
      names.set(name, configurationName);
      continue;
    }
    const link = `${bootspec.toplevel}/specialisation/${name}`;
    const mtime = existsSync(link) ? lstatSync(link).mtimeMs : 0;
    const date = new Date(mtime).toISOString().slice(0, 10);
    names.set(name, `(${name} - ${date} - ${text('nixos-version') ?? entry.label})`);
  }
  return names;
}

/**
 * grub.cfg with the entries NixOS's install-grub makes for one generation: "NixOS", or
 * "NixOS - Default" followed by one "NixOS - <menu name>" per specialisation.
 */
export function grubConfig(
  bootspec: Bootspec,
  timeout: number | null,
  location: GrubLocation = { on: 'esp', uuid: '' },
  menuNames: ReadonlyMap<string, string> = new Map(),
): string {
  // GRUB's `serial --unit` drives PC UARTs (com0...); elsewhere (aarch64) the firmware's own
  // console already reaches the serial line.
  const serial = hasBios(bootspec.system) ? serialUnit(bootspec.kernelParams) : undefined;
  const lines = [`# Generated by nixos-generate from the bootspec of ${bootspec.toplevel}`];
  if (location.uuid !== '') lines.push(`search --no-floppy --fs-uuid --set=root ${location.uuid}`);
  lines.push('set default=0', `set timeout=${timeout ?? -1}`);
  if (serial !== undefined) {
    lines.push(
      `serial --unit=${serial.unit} --speed=${serial.speed}`,
      'terminal_input --append serial',
      'terminal_output --append serial',
    );
  }
  lines.push(...menuEntry(bootspec, bootspec.specialisations.size === 0 ? 'NixOS' : 'NixOS - Default', '', location.on));
  for (const [name, entry] of bootspec.specialisations) {
    lines.push(...menuEntry(entry, `NixOS - ${menuNames.get(name) ?? `(${name})`}`, '', location.on));
  }
  return `${lines.join('\n')}\n`;
}

/** Runs one of the system's GRUB tools, failing with its stderr. */
export function runGrubTool(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, SOURCE_DATE_EPOCH: process.env['SOURCE_DATE_EPOCH'] ?? '1' } }, (error, _stdout, stderr) => {
      if (error === null) return resolve();
      const code = (error as NodeJS.ErrnoException).code;
      reject(new ImageError('grub.mkimage-failed', `Cannot build the GRUB image: ${command} ${code === 'ENOENT' ? 'was not found' : `exited ${error.code ?? error.signal}`}`, {
        hint: 'the plan\'s GRUB package must contain bin/grub-mkimage and lib/grub/<target>',
        details: `${command} ${args.join(' ')}\n${stderr}`,
      }));
    });
  });
}

/**
 * Runs grub-mkimage (the system's own, or the build machine's for a system of another
 * architecture: grub-mkimage.ts) for `target` with an early config that finds the boot filesystem.
 */
export async function makeGrubImage(grubPackage: string, target: string, location: GrubLocation, scope: ClosureScope, mkimage?: string): Promise<Uint8Array> {
  // grub-mkimage copies its modules into the image, so the package must be the system's own.
  scope.require(`${grubPackage}/lib/grub/${target}`, `GRUB for ${target} from the plan`);
  const work = mkdtempSync(join(tmpdir(), 'nixos-generate-grub-'));
  try {
    const early = join(work, 'early.cfg');
    const prefix = location.on === 'esp' ? '/grub' : '/boot/grub';
    writeFileSync(early, `search --no-floppy --fs-uuid --set=root ${location.uuid}\nset prefix=($root)${prefix}\n`);
    const output = join(work, 'grub.img');
    const modules = target === BIOS_TARGET ? GRUB_BIOS_MODULES : GRUB_EFI_MODULES;
    await runGrubTool(grubMkimageFor(grubPackage, target, mkimage), [
      '-O', target, '-d', `${grubPackage}/lib/grub/${target}`, '-p', prefix, '-c', early, '-o', output, ...modules,
    ]);
    return new Uint8Array(readFileSync(output));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function copyModules(root: DirNode, grubDir: string, grubPackage: string, target: string, scope: ClosureScope, epoch: number): void {
  const moduleDir = `${grubPackage}/lib/grub/${target}`;
  let modules: string[];
  try {
    modules = readdirSync(moduleDir).filter((f) => f.endsWith('.mod') || f.endsWith('.lst')).sort();
  } catch {
    throw new ImageError('grub.no-modules', `Cannot read GRUB modules from "${moduleDir}"`, {
      hint: `the plan's GRUB package must contain lib/grub/${target}`,
    });
  }
  for (const name of modules) put(root, `${grubDir}/${target}/${name}`, hostFile(scope, `${moduleDir}/${name}`, `GRUB's module ${name}`, epoch), epoch);
}

export async function grubFiles(plan: GrubPlan, bootspec: Bootspec, location: GrubLocation, scope: ClosureScope, epoch: number): Promise<GrubFiles> {
  const tree = dir(espMeta(epoch, true));
  // On the ESP the tree is the filesystem root; on the root filesystem it is /boot.
  const grubDir = 'grub';
  let core: Promise<Uint8Array> | undefined;
  if (plan.bios !== null) {
    if (!hasBios(bootspec.system)) {
      throw new UsageError('grub.no-bios', `Cannot install GRUB for BIOS on a ${bootspec.system} system: it has no PC BIOS`, {
        hint: 'use a UEFI format (raw-efi, qcow-efi, hyperv, amazon) for this system',
      });
    }
    core = makeGrubImage(plan.bios.package, BIOS_TARGET, location, scope);
    // Awaited by the caller; until then a failure must not count as unhandled.
    core.catch(() => undefined);
  }
  if (plan.efi !== null) {
    // GRUB's EFI platform is the bootspec's: arm64-efi and BOOTAA64.EFI for aarch64-linux.
    const target = grubEfiTargetOf(bootspec.system);
    const image = await makeGrubImage(plan.efi.package, target, location, scope, plan.efi.mkimage);
    put(tree, `EFI/BOOT/${removableEfiName(efiArchOf(bootspec.system))}`, fileFromBytes(espMeta(epoch), image), epoch);
    copyModules(tree, grubDir, plan.efi.package, target, scope, epoch);
  }
  let bios: GrubFiles['bios'];
  if (plan.bios !== null && core !== undefined) {
    const bootImgPath = `${plan.bios.package}/lib/grub/${BIOS_TARGET}/boot.img`;
    scope.require(bootImgPath, "GRUB's boot.img");
    let bootImg: Uint8Array;
    try {
      bootImg = new Uint8Array(readFileSync(bootImgPath));
    } catch {
      throw new ImageError('grub.no-boot-img', `Cannot read GRUB's boot.img at "${bootImgPath}"`, {
        hint: 'the plan\'s BIOS GRUB package must contain lib/grub/i386-pc',
      });
    }
    bios = { core, bootImg };
    copyModules(tree, grubDir, plan.bios.package, BIOS_TARGET, scope, epoch);
  }
  if (location.on === 'esp') {
    for (const entry of [bootspec, ...bootspec.specialisations.values()]) {
      put(tree, `kernels/${storeFileName(entry.kernel)}`, hostFile(scope, entry.kernel, bootFileRole('kernel', entry), epoch), epoch);
      if (entry.initrd !== undefined) put(tree, `kernels/${storeFileName(entry.initrd)}`, hostFile(scope, entry.initrd, bootFileRole('initrd', entry), epoch), epoch);
    }
  }
  put(tree, `${grubDir}/grub.cfg`, fileFromBytes(espMeta(epoch), grubConfig(bootspec, plan.timeout, location, specialisationMenuNames(bootspec, scope))), epoch);
  if (plan.bios === null && plan.efi === null && location.on === 'root') {
    // As nixos-generators' linode format does: some platform GRUBs look in /boot/grub2.
    tree.entries.set('grub2', symlink({ ...espMeta(epoch), permissions: 0o777 }, 'grub'));
  }
  return bios === undefined ? { tree } : { tree, bios };
}
