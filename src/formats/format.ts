/** What a format is: a name, its output, and how to plan it without Nix. */
import type { BootloaderPlan, ContainerName, ImagePlan } from '../plan/types.js';

export interface FormatDefinition {
  readonly name: string;
  readonly description: string;
  readonly container: ContainerName;
  /** File name inside the output directory, as nixos-generators names it. */
  readonly fileName: string;
  /** Firmware QEMU needs to boot it (--run and the boot tests). */
  readonly firmware: 'uefi';
  /** Nix module under nix/formats/ that configures the system for this format. */
  readonly nixModule: string;
  /** The plan used with --toplevel (the Nix module computes the same for -c/--flake). */
  defaultPlan(input: { toplevel: string; bootloader: BootloaderPlan; diskSize: number | 'auto' }): ImagePlan;
}

/** make-disk-image's additionalSpace default: 512 MiB free in the root filesystem. */
export const DEFAULT_ADDITIONAL_SPACE_MIB = 512;
