/** Builds the boot partition's tree for the bootloader a plan asks for. */
import type { DirNode } from '../fs/tree.js';
import type { BootloaderPlan } from '../plan/types.js';
import type { Bootspec } from './bootspec.js';
import { grubEfiTree } from './grub-efi.js';
import { systemdBootTree } from './systemd-boot.js';

export { readBootspec, type Bootspec, type BootEntry } from './bootspec.js';

export async function bootTree(plan: BootloaderPlan, bootspec: Bootspec, espVolumeId: string, epoch: number): Promise<DirNode> {
  switch (plan.type) {
    case 'grub-efi':
      return grubEfiTree(plan, bootspec, espVolumeId, epoch);
    case 'systemd-boot':
      return systemdBootTree(plan, bootspec, epoch);
  }
}
