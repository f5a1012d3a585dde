/** The boot files a plan asks for: the bootloader's tree and, for BIOS, its boot sectors. */
import type { ClosureScope } from '../nix/closure-scope.js';
import type { BootloaderPlan } from '../plan/types.js';
import type { Bootspec } from './bootspec.js';
import { extlinuxTree } from './extlinux.js';
import { grubFiles, type GrubFiles, type GrubLocation } from './grub.js';
import { systemdBootTree } from './systemd-boot.js';

export { bootFileRole, readBootspec, type Bootspec, type BootEntry } from './bootspec.js';
export type { GrubLocation } from './grub.js';

export type BootFiles = GrubFiles;

export async function bootFiles(plan: BootloaderPlan, bootspec: Bootspec, location: GrubLocation, scope: ClosureScope, epoch: number): Promise<BootFiles> {
  switch (plan.type) {
    case 'grub':
      return grubFiles(plan, bootspec, location, scope, epoch);
    case 'systemd-boot':
      return { tree: systemdBootTree(plan, bootspec, scope, epoch) };
    case 'extlinux':
      return { tree: extlinuxTree(plan, bootspec, scope, epoch) };
  }
}
