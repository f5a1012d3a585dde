/**
 * The firmware that boots an image: SeaBIOS-style BIOS when the plan installs GRUB's
 * BIOS core, else UEFI; none when the platform brings its own loader (linode) or the
 * plan installs no boot code; a live ISO by BIOS when it has isolinux. The plan decides, not the format name: a configuration may
 * turn a BIOS format to UEFI (systemd-boot on qcow, azure's vmGeneration v2, ec2.efi).
 */
import { isKexecPlan, isLivePlan, isTarballPlan, isVmPlan, type AnyImagePlan } from '../plan/types.js';
import { isDiskFormat, type AnyFormatDefinition, type Firmware } from './format.js';

export function bootFirmware(plan: AnyImagePlan, definition: AnyFormatDefinition | undefined): Firmware {
  // A live ISO with isolinux boots by BIOS (and by UEFI too when it has GRUB for EFI).
  if (isLivePlan(plan)) return plan.live.bios !== null ? 'bios' : 'uefi';
  // A container's root boots in its runtime, not in firmware.
  if (isTarballPlan(plan)) return 'none';
  // A kexec tarball is started by a running Linux (kexec), not by firmware.
  if (isKexecPlan(plan)) return 'none';
  // A vm runner boots its kernel directly, or its disk (vm-bootloader) as the disk's boot loader needs.
  if (isVmPlan(plan)) return plan.disk === null ? 'none' : bootFirmware(plan.disk, undefined);
  const boot = plan.bootloader;
  // extlinux.conf on the root filesystem: U-Boot's distro boot reads it.
  if (boot.type === 'extlinux') return 'u-boot';
  if ((definition !== undefined && isDiskFormat(definition) && definition.firmware === 'none') || plan.partitionTable.type === 'none') return 'none';
  if (boot.type === 'grub' && boot.bios === null && boot.efi === null) return 'none';
  return boot.type === 'grub' && boot.bios !== null ? 'bios' : 'uefi';
}
