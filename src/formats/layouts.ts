/**
 * Partition layouts as nixpkgs' make-disk-image creates them (nixpkgs-formats §3.2),
 * with its fixed identifiers so images are deterministic by default. nix/lib/layouts.nix
 * computes the same values; a test keeps the two equal.
 */
import { createHash } from 'node:crypto';
import type { Ext4Plan, GptTablePlan, MbrTablePlan, NoTablePlan, PartitionTablePlan, VfatPlan } from '../plan/types.js';

const MIB = 1 << 20;
const SECTOR = 512;

/** make-disk-image's `deterministic` GUIDs (the disk GUID as sgdisk really stores it). */
export const NIXPKGS_IDS = {
  diskGuid: '97FD5997-F390-0B4A-A3F8-D106C1723AEA',
  partition1Guid: '1C06F03B-704E-4657-B9CD-681A087A2FDC',
  partition2Guid: '970C694F-AFD0-4B99-B750-CDB7A329AB6F',
  rootGuid: 'F222513B-DED1-49FA-B591-20CE86A2FE7F',
  rootFsUuid: 'F222513B-DED1-49FA-B591-20CE86A2FE7F',
} as const;

/** bootSize "256M" becomes an ESP ending at 257 MiB (make-disk-image rounds up one MiB). */
export const ESP_START = 8 * MIB;
export const ESP_END = 257 * MIB;

export type LayoutName = 'legacy' | 'legacy+gpt' | 'efi' | 'hybrid' | 'none';

function firstHex(text: string, digits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, digits).toUpperCase();
}

/** The ESP's FAT volume ID: the first 8 hex digits of sha256("<disk GUID>:ESP"). */
export function espVolumeId(diskGuid: string): string {
  const hex = firstHex(`${diskGuid}:ESP`, 8);
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/** The MBR disk signature (random in nixpkgs): the first 8 hex digits of sha256("<disk GUID>:MBR"). */
export function mbrSignature(diskGuid: string): string {
  return firstHex(`${diskGuid}:MBR`, 8);
}

const rootFs: Ext4Plan = { type: 'ext4', label: 'nixos', uuid: NIXPKGS_IDS.rootFsUuid, contents: 'root' };
const esp: VfatPlan = { type: 'vfat', label: 'ESP', volumeId: espVolumeId(NIXPKGS_IDS.diskGuid), contents: 'boot' };

export function layout(name: LayoutName): PartitionTablePlan {
  switch (name) {
    // MBR; one Linux partition from 1 MiB to the end of the disk.
    case 'legacy': {
      const table: MbrTablePlan = {
        type: 'mbr',
        diskSignature: mbrSignature(NIXPKGS_IDS.diskGuid),
        partitions: [{ name: 'primary', type: 'linux', start: MIB, size: 'auto', bootable: false, filesystem: rootFs }],
      };
      return table;
    }
    // GPT; a 1 MiB BIOS boot partition for GRUB's core, then the root (which gets
    // partition 2's GUID: make-disk-image's quirk).
    case 'legacy+gpt': {
      const table: GptTablePlan = {
        type: 'gpt',
        diskGuid: NIXPKGS_IDS.diskGuid,
        partitions: [
          { name: 'no-fs', type: 'bios-boot', guid: NIXPKGS_IDS.partition1Guid, start: MIB, size: MIB, filesystem: null },
          { name: 'primary', type: 'linux', guid: NIXPKGS_IDS.partition2Guid, start: 2 * MIB, size: 'auto', filesystem: rootFs },
        ],
      };
      return table;
    }
    case 'efi': {
      const table: GptTablePlan = {
        type: 'gpt',
        diskGuid: NIXPKGS_IDS.diskGuid,
        partitions: [
          { name: 'ESP', type: 'esp', guid: NIXPKGS_IDS.partition1Guid, start: ESP_START, size: ESP_END - ESP_START, filesystem: esp },
          { name: 'primary', type: 'linux', guid: NIXPKGS_IDS.rootGuid, start: ESP_END, size: 'auto', filesystem: rootFs },
        ],
      };
      return table;
    }
    // GPT; ESP, a BIOS boot partition in the gap before it (sectors 34-2048), the root.
    case 'hybrid': {
      const table: GptTablePlan = {
        type: 'gpt',
        diskGuid: NIXPKGS_IDS.diskGuid,
        partitions: [
          { name: 'ESP', type: 'esp', guid: NIXPKGS_IDS.partition1Guid, start: ESP_START, size: ESP_END - ESP_START, filesystem: esp },
          { name: 'no-fs', type: 'bios-boot', guid: NIXPKGS_IDS.partition2Guid, start: 34 * SECTOR, size: (2048 - 34 + 1) * SECTOR, filesystem: null },
          { name: 'primary', type: 'linux', guid: NIXPKGS_IDS.rootGuid, start: ESP_END, size: 'auto', filesystem: rootFs },
        ],
      };
      return table;
    }
    case 'none': {
      const table: NoTablePlan = { type: 'none', filesystem: rootFs };
      return table;
    }
  }
}
