/** raw-efi: a raw GPT disk (ESP + root), GRUB EFI installed as removable media. */
import type { FormatDefinition } from './format.js';
import { DEFAULT_ADDITIONAL_SPACE_MIB } from './format.js';
import { efiLayout } from './layouts.js';

export const rawEfi: FormatDefinition = {
  name: 'raw-efi',
  description: 'raw disk image, GPT with ESP, UEFI boot',
  container: 'raw',
  fileName: 'nixos.img',
  firmware: 'uefi',
  nixModule: 'raw-efi.nix',
  defaultPlan: ({ toplevel, bootloader, diskSize }) => ({
    version: 1,
    format: 'raw-efi',
    toplevel,
    diskSize,
    additionalSpace: DEFAULT_ADDITIONAL_SPACE_MIB,
    partitionTable: efiLayout(),
    bootloader,
    output: { container: 'raw', fileName: 'nixos.img' },
  }),
};
