/**
 * Partition layouts as nixpkgs' make-disk-image creates them (nixpkgs-formats §3.2),
 * with its fixed identifiers so images are deterministic by default.
 */
import { createHash } from 'node:crypto';
import type { GptTablePlan } from '../plan/types.js';

const MIB = 1 << 20;

/** make-disk-image's `deterministic` GUIDs (the disk GUID as sgdisk really stores it). */
export const NIXPKGS_IDS = {
  diskGuid: '97FD5997-F390-0B4A-A3F8-D106C1723AEA',
  espGuid: '1C06F03B-704E-4657-B9CD-681A087A2FDC',
  rootGuid: 'F222513B-DED1-49FA-B591-20CE86A2FE7F',
  rootFsUuid: 'F222513B-DED1-49FA-B591-20CE86A2FE7F',
} as const;

/** bootSize "256M" becomes an ESP ending at 257 MiB (make-disk-image rounds up one MiB). */
export const ESP_START = 8 * MIB;
export const ESP_END = 257 * MIB;

/**
 * The ESP's FAT volume ID: the first 8 hex digits of sha256("<disk GUID>:ESP"). The Nix
 * modules compute the same value with builtins.hashString.
 */
export function espVolumeId(diskGuid: string): string {
  const hex = createHash('sha256').update(`${diskGuid}:ESP`).digest('hex').slice(0, 8).toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/** make-disk-image's "efi" table: ESP (8-257 MiB) and the root, labelled nixos. */
export function efiLayout(): GptTablePlan {
  return {
    type: 'gpt',
    diskGuid: NIXPKGS_IDS.diskGuid,
    partitions: [
      {
        name: 'ESP',
        type: 'esp',
        guid: NIXPKGS_IDS.espGuid,
        start: ESP_START,
        size: ESP_END - ESP_START,
        filesystem: { type: 'vfat', label: 'ESP', volumeId: espVolumeId(NIXPKGS_IDS.diskGuid), contents: 'boot' },
      },
      {
        name: 'primary',
        type: 'linux',
        guid: NIXPKGS_IDS.rootGuid,
        start: ESP_END,
        size: 'auto',
        filesystem: { type: 'ext4', label: 'nixos', uuid: NIXPKGS_IDS.rootFsUuid, contents: 'root' },
      },
    ],
  };
}
