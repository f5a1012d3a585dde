/**
 * The live plan for an already-built system (--toplevel), with iso-image.nix's defaults:
 * volume ID nixos-<release>-<cpu>, isolinux from the syslinux (x86 systems only, as
 * makeBiosBootable's default) and GRUB from the EFI GRUB for the system's platform found
 * in its closure (iso-image.nix puts both there), zstd level 19 squashfs in 1 MiB blocks,
 * boot.loader.timeout 10. No contents: the writer puts every menu entry's kernel and
 * initrd under /boot/<store path>/ and syslinux in /isolinux by itself.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { SystemClosure } from '../nix/root-tree.js';
import type { LivePlan } from '../plan/types.js';
import { efiArchOf, grubEfiTarget, hasBios } from '../boot/efi-arch.js';
import { isIsoEfiArch } from '../boot/iso-efi.js';
import { findGrub } from './detect-bootloader.js';
import type { LiveFormatDefinition } from './format.js';
import { nixosVersion, toplevelNames } from './toplevel-plan.js';

/** nixpkgs' isoImage.syslinuxTheme default. */
export function defaultSyslinuxTheme(distroName: string): string {
  return [
    `MENU TITLE ${distroName}`, 'MENU RESOLUTION 800 600', 'MENU CLEAR', 'MENU ROWS 6', 'MENU CMDLINEROW -4', 'MENU TIMEOUTROW -3',
    'MENU TABMSGROW  -2', 'MENU HELPMSGROW -1', 'MENU HELPMSGENDROW -1', 'MENU MARGIN 0', '',
  ].join('\n');
}

function findSyslinux(closure: SystemClosure): string | undefined {
  return closure.registrations.map((r) => r.path).sort().find((p) => existsSync(`${p}/share/syslinux/isolinux.bin`) && existsSync(`${p}/share/syslinux/ldlinux.c32`));
}

export function livePlanForToplevel(format: LiveFormatDefinition, closure: SystemClosure): LivePlan {
  const names = toplevelNames(closure.toplevel);
  const label = nixosVersion(closure.toplevel) ?? names.label;
  const release = /^\d+\.\d+/.exec(label)?.[0] ?? label;
  const system = names.system;
  const bios = hasBios(system);
  const syslinux = bios ? findSyslinux(closure) : undefined;
  if (bios && syslinux === undefined) {
    throw new UsageError('bootloader.not-found', `Cannot find syslinux (share/syslinux/isolinux.bin) in the closure of "${closure.toplevel}"`, {
      hint: 'build the system with the iso format\'s module (nixos-generate -f iso -c ...), which adds syslinux, or from the configuration with -c or --flake',
    });
  }
  const efiArch = efiArchOf(system);
  if (!isIsoEfiArch(efiArch)) {
    throw new UsageError('iso.system', `Cannot write an ISO for ${system}: the ISO boots x86_64-linux, i686-linux and aarch64-linux systems`, {
      hint: 'use an EFI disk format (raw-efi, qcow-efi) or an sd-card format',
    });
  }
  const efiTarget = grubEfiTarget(efiArch);
  const grub = format.live.efi ? findGrub(closure, efiTarget) : undefined;
  if (format.live.efi && grub === undefined) {
    throw new UsageError('bootloader.not-found', `Cannot find GRUB for ${efiTarget} in the closure of "${closure.toplevel}"`, {
      hint: 'build the system from the configuration with -c or --flake',
    });
  }
  return {
    version: 1,
    kind: 'live',
    format: format.name,
    toplevel: closure.toplevel,
    live: {
      volumeId: `nixos-${release}-${system.split('-')[0]}`.slice(0, 32),
      squashfs: { algorithm: 'zstd', level: 19, blockSize: 1 << 20 },
      contents: [],
      bios: syslinux === undefined ? null : { syslinux },
      efi: grub === undefined ? null : { grub, efiArch },
      // iso-image.nix makes the USB hybrid only together with BIOS booting.
      usb: format.live.usb && syslinux !== undefined,
      menu: {
        timeout: 10, distroName: 'NixOS', label, prepend: '', append: ' Installer',
        configurationName: null, showConfiguration: true, syslinuxTheme: defaultSyslinuxTheme('NixOS'), forceTextMode: false, memtest: null,
      },
      storeContents: [closure.toplevel],
    },
    output: format.output(names),
  };
}
