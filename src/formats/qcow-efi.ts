/** qcow-efi: a qcow2 GPT disk (ESP + root), GRUB EFI installed as removable media. */
import type { FormatDefinition } from './format.js';
import { DEFAULT_ADDITIONAL_SPACE_MIB } from './format.js';
import { efiLayout } from './layouts.js';

export const qcowEfi: FormatDefinition = {
  name: 'qcow-efi',
  description: 'qcow2 disk image, GPT with ESP, UEFI boot',
  container: 'qcow2',
  fileName: 'nixos.qcow2',
  firmware: 'uefi',
  nixModule: 'qcow-efi.nix',
  defaultPlan: ({ toplevel, bootloader, diskSize }) => ({
    version: 1,
    format: 'qcow-efi',
    toplevel,
    diskSize,
    additionalSpace: DEFAULT_ADDITIONAL_SPACE_MIB,
    partitionTable: efiLayout(),
    bootloader,
    output: { container: 'qcow2', fileName: 'nixos.qcow2' },
  }),
};
