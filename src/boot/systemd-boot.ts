/**
 * systemd-boot on the ESP, laid out as NixOS's systemd-boot builder does: the loader
 * at EFI/systemd and as the removable-media fallback EFI/BOOT/BOOT<ARCH>.EFI, kernels and
 * initrds under EFI/nixos, one loader entry per generation and specialisation.
 */
import { dir, fileFromBytes, type DirNode } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import type { SystemdBootPlan } from '../plan/types.js';
import { bootFileRole, commandLine, storeFileName, type BootEntry, type Bootspec } from './bootspec.js';
import { ImageError } from '../core/errors.js';
import { systemdBootArch } from './efi-arch.js';
import { espMeta, hostFile, put } from './esp-tree.js';

function entryText(entry: BootEntry, title: string, files: { kernel: string; initrd: string | undefined }): string {
  return [
    `title ${title}`,
    `version Generation 1 ${entry.label}`,
    `linux /EFI/nixos/${files.kernel}`,
    ...(files.initrd === undefined ? [] : [`initrd /EFI/nixos/${files.initrd}`]),
    `options ${commandLine(entry)}`,
    'sort-key nixos',
    '',
  ].join('\n');
}

export function systemdBootTree(plan: SystemdBootPlan, bootspec: Bootspec, scope: ClosureScope, epoch: number): DirNode {
  const root = dir(espMeta(epoch, true));
  const arch = systemdBootArch(plan.efiBinary);
  if (arch === undefined) {
    throw new ImageError('systemd-boot.name', `Cannot install systemd-boot from "${plan.efiBinary}": its name is not systemd-boot<arch>.efi`, {
      hint: 'the plan\'s efiBinary must be <systemd>/lib/systemd/boot/efi/systemd-boot<arch>.efi, as bootctl installs it',
    });
  }
  const loader = hostFile(scope, plan.efiBinary, 'the systemd-boot binary of the plan', epoch);
  put(root, `EFI/systemd/systemd-boot${arch}.efi`, loader, epoch);
  put(root, `EFI/BOOT/BOOT${arch.toUpperCase()}.EFI`, { ...loader }, epoch);
  const addEntry = (entry: BootEntry, confName: string, title: string): void => {
    const kernel = `${storeFileName(entry.kernel)}.efi`;
    const initrd = entry.initrd === undefined ? undefined : `${storeFileName(entry.initrd)}.efi`;
    put(root, `EFI/nixos/${kernel}`, hostFile(scope, entry.kernel, bootFileRole('kernel', entry), epoch), epoch);
    if (initrd !== undefined) put(root, `EFI/nixos/${initrd}`, hostFile(scope, entry.initrd!, bootFileRole('initrd', entry), epoch), epoch);
    put(root, `loader/entries/${confName}`, fileFromBytes(espMeta(epoch), entryText(entry, title, { kernel, initrd })), epoch);
  };
  addEntry(bootspec, 'nixos-generation-1.conf', 'NixOS');
  for (const [name, entry] of bootspec.specialisations) {
    addEntry(entry, `nixos-generation-1-specialisation-${name}.conf`, `NixOS (${name})`);
  }
  const loaderConf = [`timeout ${plan.timeout ?? 'menu-force'}`, 'default nixos-generation-1.conf', 'console-mode keep', ''].join('\n');
  put(root, 'loader/loader.conf', fileFromBytes(espMeta(epoch), loaderConf), epoch);
  return root;
}
