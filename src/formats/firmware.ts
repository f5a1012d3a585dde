/**
 * The firmware that boots an image: SeaBIOS-style BIOS when the plan installs GRUB's
 * BIOS core, else UEFI; none when the platform brings its own loader (linode) or the
 * plan installs no boot code. The plan decides, not the format name: a configuration may
 * turn a BIOS format to UEFI (systemd-boot on qcow, azure's vmGeneration v2, ec2.efi).
 */
import type { ImagePlan } from '../plan/types.js';
import type { Firmware, FormatDefinition } from './format.js';

export function bootFirmware(plan: ImagePlan, definition: FormatDefinition | undefined): Firmware {
  const boot = plan.bootloader;
  if (definition?.firmware === 'none' || plan.partitionTable.type === 'none') return 'none';
  if (boot.type === 'grub' && boot.bios === null && boot.efi === null) return 'none';
  return boot.type === 'grub' && boot.bios !== null ? 'bios' : 'uefi';
}
