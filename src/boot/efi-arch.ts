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
