/**
 * What a format is: a layout, the GRUB targets it installs, an output, and the Nix module
 * that configures the system for it. One generic builder turns that into the plan used
 * with --toplevel; the Nix module computes the same plan for -c/--flake (a test checks).
 */
import type { BootloaderPlan, ImagePlan, KexecPlan, LivePlan, OutputPlan, TarballPlan } from '../plan/types.js';
import { layout, type LayoutName } from './layouts.js';

/** What boots an image: a PC BIOS, UEFI, U-Boot reading extlinux.conf (sd-card images), or nothing (a platform's own loader). */
export type Firmware = 'bios' | 'uefi' | 'u-boot' | 'none';

export interface OutputNames {
  /** system.nixos.label (with --toplevel: the system's nixos-version). */
  readonly label: string;
  /** For example x86_64-linux. */
  readonly system: string;
}

export interface FormatDefinition {
  readonly name: string;
  readonly description: string;
  readonly layout: LayoutName;
  /** GRUB targets the format installs (make-disk-image's grub device / efiSupport). */
  readonly grub: { readonly bios: boolean; readonly efi: boolean };
  /** MiB left free in the root filesystem when the disk size is auto. */
  readonly additionalSpace: number;
  /** How --run and the boot tests boot it: SeaBIOS, OVMF, or not at all (a platform's own loader). */
  readonly firmware: Firmware;
  /** Nix module under nix/formats/. */
  readonly nixModule: string;
  /** diskSize: the plan's, which nixpkgs writes into some outputs (Proxmox's config). */
  output(names: OutputNames, diskSize: number | 'auto'): OutputPlan;
}

/** make-disk-image's additionalSpace default: 512 MiB free in the root filesystem. */
export const DEFAULT_ADDITIONAL_SPACE_MIB = 512;

/** nixpkgs 25.05's image.baseName default. */
export function nixpkgsBaseName(names: OutputNames): string {
  return `nixos-image-${names.label}-${names.system}`;
}

export function defaultPlan(
  format: FormatDefinition,
  input: { toplevel: string; bootloader: BootloaderPlan; diskSize: number | 'auto'; names: OutputNames },
): ImagePlan {
  return {
    version: 1,
    format: format.name,
    toplevel: input.toplevel,
    diskSize: input.diskSize,
    additionalSpace: format.additionalSpace,
    partitionTable: layout(format.layout),
    bootloader: input.bootloader,
    output: format.output(input.names, input.diskSize),
  };
}

/** A live ISO format (nixpkgs' iso-image.nix): no disk, no partition layout. */
export interface LiveFormatDefinition {
  readonly kind: 'live';
  readonly name: string;
  readonly description: string;
  /** How --run and the boot tests boot it (as a CD). */
  readonly firmware: Firmware;
  /** Nix module under nix/formats/. */
  readonly nixModule: string;
  /** What the format module sets, as nixos-generators does (isoImage.makeEfiBootable, makeUsbBootable). */
  readonly live: { readonly efi: boolean; readonly usb: boolean };
  output(names: OutputNames): LivePlan['output'];
}

/** A system tarball for a container runtime (nixpkgs' make-system-tarball.nix): no disk, no boot loader. */
export interface TarballFormatDefinition {
  readonly kind: 'tarball';
  readonly name: string;
  readonly description: string;
  /** Nix module under nix/formats/. */
  readonly nixModule: string;
  output(names: OutputNames): TarballPlan['output'];
  /**
   * The tar root the nixpkgs module gives a system, for --toplevel (a test checks it
   * against the module's); undefined when the format needs the configuration (lxc-metadata).
   */
  readonly layout: ((toplevel: string) => TarballPlan['tarball']) | undefined;
}

/**
 * nixos-generators' kexec formats: a tarball (or self-extracting bundle) of the kexec
 * script, whose image carries the system in its initrd. Built from a configuration only:
 * the script's tools (kexec-tools, cpio) are not in a system's closure.
 */
export interface KexecFormatDefinition {
  readonly kind: 'kexec';
  readonly name: string;
  readonly description: string;
  /** Nix module under nix/formats/. */
  readonly nixModule: string;
  output(names: OutputNames): KexecPlan['output'];
}

/**
 * nixos-generators' vm formats: a QEMU runner (and for vm-bootloader its disk). Built from
 * a configuration only: what the runner starts (9p shares, consoles, the disk's
 * filesystems) is what qemu-vm.nix made of it, and its file is named after system.name.
 */
export interface VmFormatDefinition {
  readonly kind: 'vm';
  readonly name: string;
  readonly description: string;
  /** Nix module under nix/formats/. */
  readonly nixModule: string;
}

/**
 * nixos-generators' sd-card formats (installer/sd-card/sd-image*.nix): an MBR disk with the
 * FIRMWARE partition and the root whose /boot/extlinux U-Boot reads. Built from a
 * configuration only: the firmware partition's files come from sdImage.populateFirmwareCommands.
 */
export interface SdFormatDefinition {
  readonly kind: 'sd';
  readonly name: string;
  readonly description: string;
  /** Nix module under nix/formats/. */
  readonly nixModule: string;
}

export type AnyFormatDefinition = FormatDefinition | LiveFormatDefinition | TarballFormatDefinition | KexecFormatDefinition | VmFormatDefinition | SdFormatDefinition;

export function isLiveFormat(format: AnyFormatDefinition): format is LiveFormatDefinition {
  return 'kind' in format && format.kind === 'live';
}

export function isTarballFormat(format: AnyFormatDefinition): format is TarballFormatDefinition {
  return 'kind' in format && format.kind === 'tarball';
}

export function isKexecFormat(format: AnyFormatDefinition): format is KexecFormatDefinition {
  return 'kind' in format && format.kind === 'kexec';
}

export function isVmFormat(format: AnyFormatDefinition): format is VmFormatDefinition {
  return 'kind' in format && format.kind === 'vm';
}

export function isSdFormat(format: AnyFormatDefinition): format is SdFormatDefinition {
  return 'kind' in format && format.kind === 'sd';
}

export function isDiskFormat(format: AnyFormatDefinition): format is FormatDefinition {
  return !('kind' in format);
}
