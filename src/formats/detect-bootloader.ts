/**
 * For --toplevel (no evaluation), finds the bootloader binaries in the system's own
 * closure: a NixOS system's closure holds the GRUB it installs with, and its toplevel
 * links the systemd whose systemd-boot it would install.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { BootloaderPlan } from '../plan/types.js';
import type { SystemClosure } from '../nix/root-tree.js';

export type BootloaderName = 'grub-efi' | 'systemd-boot';
export const BOOTLOADER_NAMES: readonly BootloaderName[] = ['grub-efi', 'systemd-boot'];

const SYSTEMD_BOOT = 'lib/systemd/boot/efi/systemd-bootx64.efi';

function findGrub(closure: SystemClosure): string | undefined {
  return closure.registrations
    .map((r) => r.path)
    .sort()
    .find((p) => existsSync(`${p}/bin/grub-mkimage`) && existsSync(`${p}/lib/grub/x86_64-efi/kernel.img`));
}

function findSystemdBoot(closure: SystemClosure): string | undefined {
  const linked = `${closure.toplevel}/systemd/${SYSTEMD_BOOT}`;
  if (existsSync(linked)) return linked;
  const owner = closure.registrations.map((r) => r.path).sort().find((p) => existsSync(`${p}/${SYSTEMD_BOOT}`));
  return owner === undefined ? undefined : `${owner}/${SYSTEMD_BOOT}`;
}

/** The bootloader plan: the one asked for, else GRUB EFI (the format default), else systemd-boot. */
export function detectBootloader(closure: SystemClosure, wanted: BootloaderName | undefined, timeout = 0): BootloaderPlan {
  const grub = wanted === 'systemd-boot' ? undefined : findGrub(closure);
  if (grub !== undefined) return { type: 'grub-efi', package: grub, timeout };
  const systemdBoot = wanted === 'grub-efi' ? undefined : findSystemdBoot(closure);
  if (systemdBoot !== undefined) return { type: 'systemd-boot', efiBinary: systemdBoot, timeout };
  const which = wanted ?? 'GRUB (x86_64-efi) nor systemd-boot';
  throw new UsageError('bootloader.not-found', `Cannot find ${wanted === undefined ? which : `the ${which} bootloader`} in the closure of "${closure.toplevel}"`, {
    hint: 'build the system with its bootloader enabled, or build from the configuration with -c or --flake',
  });
}
