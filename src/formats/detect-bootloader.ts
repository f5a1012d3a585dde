/**
 * For --toplevel (no evaluation), finds the bootloader binaries in the system's own
 * closure: a NixOS system's closure holds the GRUB it installs with, and its toplevel
 * links the systemd whose systemd-boot it would install.
 */
import { existsSync, readFileSync } from 'node:fs';
import { efiArchOf, grubEfiTargetOf, hasBios } from '../boot/efi-arch.js';
import { UsageError } from '../core/errors.js';
import type { BootloaderPlan } from '../plan/types.js';
import type { SystemClosure } from '../nix/root-tree.js';

export type BootloaderName = 'grub' | 'systemd-boot';
export const BOOTLOADER_NAMES: readonly BootloaderName[] = ['grub', 'systemd-boot'];

/** Where systemd's package keeps systemd-boot for an EFI architecture, as bootctl finds it. */
const systemdBootPath = (arch: string): string => `lib/systemd/boot/efi/systemd-boot${arch}.efi`;

export function findGrub(closure: SystemClosure, target: string): string | undefined {
  const marker = target === 'i386-pc' ? 'boot.img' : 'kernel.img';
  return closure.registrations
    .map((r) => r.path)
    .sort()
    .find((p) => existsSync(`${p}/bin/grub-mkimage`) && existsSync(`${p}/lib/grub/${target}/${marker}`));
}

function findSystemdBoot(closure: SystemClosure, relative: string): string | undefined {
  const linked = `${closure.toplevel}/systemd/${relative}`;
  if (existsSync(linked)) return linked;
  const owner = closure.registrations.map((r) => r.path).sort().find((p) => existsSync(`${p}/${relative}`));
  return owner === undefined ? undefined : `${owner}/${relative}`;
}

/** The toplevel's system ("x86_64-linux"), as NixOS writes it; x86_64-linux when absent. */
export function systemOf(closure: SystemClosure): string {
  try {
    return readFileSync(`${closure.toplevel}/system`, 'utf8').trim() || 'x86_64-linux';
  } catch {
    return 'x86_64-linux';
  }
}

function missing(what: string, closure: SystemClosure): never {
  throw new UsageError('bootloader.not-found', `Cannot find ${what} in the closure of "${closure.toplevel}"`, {
    hint: 'build the system with that bootloader enabled, or build from the configuration with -c or --flake',
  });
}

/**
 * The bootloader plan for a format: GRUB with the targets the format installs (its
 * default), or systemd-boot when asked for (UEFI formats only).
 */
export function detectBootloader(
  closure: SystemClosure,
  targets: { readonly bios: boolean; readonly efi: boolean },
  wanted: BootloaderName | undefined,
  timeout = 0,
): BootloaderPlan {
  if (wanted === 'systemd-boot') {
    if (!targets.efi || targets.bios) {
      throw new UsageError('bootloader.unsupported', 'Cannot use systemd-boot for this format: it boots with BIOS', { hint: 'use a UEFI format (raw-efi, qcow-efi, hyperv, vmware)' });
    }
    const relative = systemdBootPath(efiArchOf(systemOf(closure)));
    const efiBinary = findSystemdBoot(closure, relative) ?? missing(`systemd-boot (${relative})`, closure);
    return { type: 'systemd-boot', efiBinary, timeout };
  }
  const system = systemOf(closure);
  if (targets.bios && !hasBios(system)) {
    throw new UsageError('bootloader.no-bios', `Cannot build this format for ${system}: it boots with a PC BIOS, which ${system} does not have`, {
      hint: 'use a UEFI format (raw-efi, qcow-efi, hyperv, amazon) or an sd-card format for this system',
    });
  }
  const efiTarget = targets.efi ? grubEfiTargetOf(system) : '';
  const efi = targets.efi ? { package: findGrub(closure, efiTarget) ?? missing(`GRUB for ${efiTarget}`, closure) } : null;
  const bios = targets.bios ? { package: findGrub(closure, 'i386-pc') ?? missing('GRUB for i386-pc', closure) } : null;
  return { type: 'grub', bios, efi, timeout };
}
