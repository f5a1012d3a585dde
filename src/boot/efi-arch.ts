/**
 * The EFI architecture names NixOS uses (nixpkgs' lib/systems `efiArch`): they name
 * systemd-boot's binary (systemd-boot<arch>.efi) and the removable-media path
 * (EFI/BOOT/BOOT<ARCH>.EFI).
 */
import { UsageError } from '../core/errors.js';

const EFI_ARCH_BY_CPU: Readonly<Record<string, string>> = {
  x86_64: 'x64',
  i686: 'ia32',
  aarch64: 'aa64',
  armv7l: 'arm',
  riscv64: 'riscv64',
  loongarch64: 'loongarch64',
};

/** efiArch of a Nix system string such as "x86_64-linux". */
export function efiArchOf(system: string): string {
  const arch = EFI_ARCH_BY_CPU[system.split('-')[0] ?? ''];
  if (arch === undefined) {
    throw new UsageError('efi.arch', `Cannot boot "${system}" with UEFI: no EFI architecture is known for it`, {
      hint: `use one of ${Object.keys(EFI_ARCH_BY_CPU).map((cpu) => `${cpu}-linux`).join(', ')}`,
    });
  }
  return arch;
}

/** The architecture a systemd-boot binary is for, from its name (systemd-bootaa64.efi -> aa64). */
export function systemdBootArch(efiBinary: string): string | undefined {
  return /\/systemd-boot([a-z0-9]+)\.efi$/.exec(efiBinary)?.[1];
}

/** GRUB's EFI platform for each EFI architecture (the directory under lib/grub/). */
const GRUB_EFI_TARGET_BY_ARCH: Readonly<Record<string, string>> = {
  x64: 'x86_64-efi',
  ia32: 'i386-efi',
  aa64: 'arm64-efi',
  arm: 'arm-efi',
  riscv64: 'riscv64-efi',
  loongarch64: 'loongarch64-efi',
};

/** GRUB's EFI platform for an EFI architecture ("aa64" -> "arm64-efi"). */
export function grubEfiTarget(efiArch: string, forWhat = `the EFI architecture "${efiArch}"`): string {
  const target = GRUB_EFI_TARGET_BY_ARCH[efiArch];
  if (target === undefined) throw new UsageError('efi.arch', `GRUB has no EFI platform for ${forWhat}`, { hint: 'use systemd-boot, or another system' });
  return target;
}

/** GRUB's EFI platform for a Nix system string ("aarch64-linux" -> "arm64-efi"). */
export function grubEfiTargetOf(system: string): string {
  return grubEfiTarget(efiArchOf(system), `"${system}"`);
}

/** Whether a system boots with a PC BIOS (GRUB's i386-pc): only x86 ones. */
export function hasBios(system: string): boolean {
  return /^(x86_64|i[3-6]86)-/.test(system);
}

/** The removable-media loader name firmware looks for: "BOOTX64.EFI", "BOOTAA64.EFI". */
export function removableEfiName(efiArch: string): string {
  return `BOOT${efiArch.toUpperCase()}.EFI`;
}
