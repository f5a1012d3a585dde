/** TypeScript view of the image plan (see schema.ts, the source of truth). */
import type { PartitionTypeName } from '../partition/types.js';

export interface Ext4Plan {
  readonly type: 'ext4';
  readonly label: string;
  readonly uuid: string;
  readonly contents: 'root';
}

export interface VfatPlan {
  readonly type: 'vfat';
  readonly label: string;
  /** "XXXX-XXXX", as blkid and GRUB show a FAT volume ID. */
  readonly volumeId: string;
  readonly contents: 'boot';
}

export type FilesystemPlan = Ext4Plan | VfatPlan;

export interface PartitionPlan {
  readonly name: string;
  readonly type: PartitionTypeName;
  readonly guid: string;
  readonly start: number;
  readonly size: number | 'auto';
  readonly bootable?: boolean;
  readonly filesystem: FilesystemPlan | null;
}

export interface GptTablePlan {
  readonly type: 'gpt';
  readonly diskGuid: string;
  readonly partitions: readonly PartitionPlan[];
}

export type PartitionTablePlan = GptTablePlan;

export interface GrubEfiPlan {
  readonly type: 'grub-efi';
  readonly package: string;
  /** Seconds; null waits for a choice (NixOS's boot.loader.timeout = null). */
  readonly timeout: number | null;
}

export interface SystemdBootPlan {
  readonly type: 'systemd-boot';
  readonly efiBinary: string;
  readonly timeout: number | null;
}

export type BootloaderPlan = GrubEfiPlan | SystemdBootPlan;

export type ContainerName = 'raw' | 'qcow2';

export interface ImagePlan {
  readonly version: 1;
  readonly format: string;
  readonly toplevel: string;
  readonly diskSize: number | 'auto';
  readonly additionalSpace: number;
  readonly partitionTable: PartitionTablePlan;
  readonly bootloader: BootloaderPlan;
  readonly output: { readonly container: ContainerName; readonly fileName: string };
}
