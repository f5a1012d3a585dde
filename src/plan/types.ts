/** TypeScript view of the image plan (see schema.ts, the source of truth). */
import type { PartitionTypeName } from '../partition/types.js';

export interface Ext4Plan {
  readonly type: 'ext4';
  readonly label: string;
  readonly uuid: string;
  readonly contents: 'root';
  /**
   * The closure's registration at this path instead of a loaded Nix database and the
   * system profile (make-ext4-fs.nix: the sd-card images' /nix-path-registration).
   */
  readonly registrationFile?: string;
}

export interface VfatPlan {
  readonly type: 'vfat';
  readonly label: string;
  /** "XXXX-XXXX", as blkid and GRUB show a FAT volume ID. */
  readonly volumeId: string;
  /** The boot files (an ESP), or the files of `source` (an sd-card's FIRMWARE partition). */
  readonly contents: 'boot' | 'firmware';
  readonly source?: string;
}

export type FilesystemPlan = Ext4Plan | VfatPlan;

export interface PartitionPlan {
  readonly name: string;
  readonly type: PartitionTypeName;
  /** GPT unique partition GUID (unused on MBR disks). */
  readonly guid?: string;
  /** Byte offset, a multiple of 512. */
  readonly start: number;
  readonly size: number | 'auto';
  /** MBR active flag. */
  readonly bootable?: boolean;
  readonly filesystem: FilesystemPlan | null;
}

export interface GptTablePlan {
  readonly type: 'gpt';
  readonly diskGuid: string;
  readonly partitions: readonly PartitionPlan[];
}

export interface MbrTablePlan {
  readonly type: 'mbr';
  /** 8 hex digits. */
  readonly diskSignature: string;
  readonly partitions: readonly PartitionPlan[];
}

/** No partition table: the disk is the root filesystem (linode). */
export interface NoTablePlan {
  readonly type: 'none';
  readonly filesystem: Ext4Plan;
}

export type PartitionTablePlan = GptTablePlan | MbrTablePlan | NoTablePlan;

export interface GrubPackagePlan {
  /** GRUB package with bin/grub-mkimage and lib/grub/<target>/. */
  readonly package: string;
  /**
   * A grub-mkimage the build machine runs, for a system of another architecture (whose own
   * grub-mkimage is a program of that architecture): the build machine's GRUB of the same nixpkgs.
   */
  readonly mkimage?: string;
}

/**
 * GRUB for BIOS (i386-pc core in the MBR gap or the BIOS boot partition), for UEFI
 * (removable-media EFI/BOOT/BOOT<ARCH>.EFI), both (hybrid), or neither: only grub.cfg,
 * for platforms whose own GRUB reads it (linode).
 */
export interface GrubPlan {
  readonly type: 'grub';
  readonly bios: GrubPackagePlan | null;
  readonly efi: GrubPackagePlan | null;
  /** Seconds; null waits for a choice (NixOS's boot.loader.timeout = null). */
  readonly timeout: number | null;
}

export interface SystemdBootPlan {
  readonly type: 'systemd-boot';
  readonly efiBinary: string;
  readonly timeout: number | null;
}

/** generic-extlinux-compatible: extlinux.conf and /boot/nixos on the root filesystem, for U-Boot. */
export interface ExtlinuxPlan {
  readonly type: 'extlinux';
  readonly timeout: number | null;
  readonly useGenerationDeviceTree: boolean;
  readonly deviceTreeName: string | null;
}

export type BootloaderPlan = GrubPlan | SystemdBootPlan | ExtlinuxPlan;

export type ContainerName = 'raw' | 'qcow2' | 'vhd' | 'vhdx' | 'vmdk' | 'ova' | 'vagrant-box' | 'gce-tar' | 'vma';
export type CompressionName = 'none' | 'gzip' | 'zstd';

export interface VirtualMachinePlan {
  readonly name: string;
  readonly memoryMiB: number;
  readonly cpus: number;
}

export interface OutputPlan {
  readonly container: ContainerName;
  /** Path of the image inside the output directory. */
  readonly fileName: string;
  /** Applied to the container's bytes (raw, qcow2 and vma only). */
  readonly compression: CompressionName;
  /** gzip level (gzip compression and gce-tar); default 6. */
  readonly compressionLevel?: number;
  readonly vhd?: { readonly subformat: 'fixed' | 'dynamic' };
  readonly vmdk?: { readonly subformat: 'monolithicSparse' | 'streamOptimized' };
  /** The VM an OVA or Vagrant box describes. */
  readonly virtualMachine?: VirtualMachinePlan;
  /** Proxmox: the qemu-server.conf stored in the VMA. */
  readonly proxmox?: { readonly qemuServerConf: string };
  /** Files written next to the image (amazon: nix-support/image-info.json). */
  readonly sideFiles?: readonly 'amazon-image-info'[];
}

/** A disk image plan. */
export interface ImagePlan {
  readonly version: 1;
  readonly kind?: 'disk';
  readonly format: string;
  readonly toplevel: string;
  readonly diskSize: number | 'auto';
  readonly additionalSpace: number;
  readonly partitionTable: PartitionTablePlan;
  readonly bootloader: BootloaderPlan;
  readonly output: OutputPlan;
}

export type SquashfsAlgorithm = 'zstd' | 'gzip' | 'xz' | 'lz4' | 'none';

/** What names a configuration's entry in a live ISO's menus (iso-image.nix reads each specialisation's own). */
export interface LiveMenuNamePlan {
  readonly distroName: string;
  /** system.nixos.label */
  readonly label: string;
  readonly prepend: string;
  readonly append: string;
  readonly configurationName: string | null;
  /** Whether the configuration has an entry at all. */
  readonly showConfiguration: boolean;
}

/** The boot menus of a live ISO, from isoImage.* and boot.loader.timeout; the names are the system's own. */
export interface LiveMenuPlan extends LiveMenuNamePlan {
  readonly timeout: number | null;
  readonly syslinuxTheme: string;
  readonly forceTextMode: boolean;
  /**
   * boot.loader.grub.memtest86 (installation-cd-base.nix enables it): isolinux's Memtest86+
   * entry for /boot/memtest.bin (which isoImage.contents brings) with its parameters; null: none.
   */
  readonly memtest: { readonly params: readonly string[] } | null;
  /**
   * Each specialisation's own names, from its configuration (its isoImage.configurationName,
   * label, ...). Absent with --toplevel, where only the specialisation's name is known: the
   * entry is then named with the system's fields and the specialisation's name.
   */
  readonly specialisations?: Readonly<Record<string, LiveMenuNamePlan>>;
}

/** What nixpkgs' iso-image.nix makes: the closure in a squashfs inside an ISO 9660 filesystem. */
export interface LiveIsoPlan {
  readonly volumeId: string;
  readonly squashfs: SquashfsCompressionPlan;
  /** isoImage.contents without what this project writes itself. */
  readonly contents: readonly { readonly source: string; readonly target: string }[];
  readonly bios: { readonly syslinux: string } | null;
  /**
   * `mkimage`: as GrubPackagePlan's, the build machine's grub-mkimage for a system of
   * another architecture. `refind`: refind_<efiArch>.efi, put beside GRUB with a GRUB entry
   * that starts it (null or absent: none).
   */
  readonly efi: { readonly grub: string; readonly efiArch: 'x64' | 'ia32' | 'aa64'; readonly mkimage?: string; readonly refind?: string | null } | null;
  readonly usb: boolean;
  readonly menu: LiveMenuPlan;
  /** isoImage.storeContents: their closure, with its registration, is the squashfs's. */
  readonly storeContents: readonly string[];
}

export interface LivePlan {
  readonly version: 1;
  readonly kind: 'live';
  readonly format: string;
  readonly toplevel: string;
  readonly live: LiveIsoPlan;
  readonly output: { readonly container: 'iso'; readonly fileName: string; readonly compression: 'none' | 'zstd' };
}

/** One step of make-system-tarball's extraCommands, as this project reads them. */
export type TarballCommand = { readonly op: 'rm'; readonly path: string } | { readonly op: 'mkdir'; readonly path: string };

/** What nixpkgs' make-system-tarball.nix is given: the tar root it builds and archives. */
export interface TarballContentsPlan {
  /** `contents`: cp -a source to target; a source ending in "/." copies a directory's entries. */
  readonly contents: readonly { readonly source: string; readonly target: string }[];
  /** `storeContents` objects: their closure goes to nix/store and its registration to /nix-path-registration. */
  readonly storePaths: readonly string[];
  /** `storeContents` symlinks other than "none": absolute symlinks to their object. */
  readonly symlinks: readonly { readonly object: string; readonly path: string }[];
  /** `extraCommands`, run in order after the copies. */
  readonly commands: readonly TarballCommand[];
}

export interface TarballPlan {
  readonly version: 1;
  readonly kind: 'tarball';
  readonly format: string;
  readonly toplevel: string;
  readonly tarball: TarballContentsPlan;
  readonly output: { readonly container: 'tar'; readonly fileName: string; readonly compression: 'xz' };
}

export interface SquashfsCompressionPlan {
  readonly algorithm: SquashfsAlgorithm;
  readonly level: number | null;
  readonly blockSize: number;
  readonly dictionarySize?: number;
}

/**
 * What nixos-generators' kexec format builds besides the tarball, written here instead of
 * by Nix: system.build.image (kernel, initrd, cmdline) and kexec_script, at the store
 * paths their derivations have (evaluated, never built).
 */
export interface KexecImagePlan {
  /** system.build.image's store path: a directory with kernel, initrd and cmdline. */
  readonly imagePath: string;
  /** The kernel file copied to image/kernel, its store references nuked as nuke-refs does. */
  readonly kernel: string;
  /** The system's stage-1 initrd: image/initrd starts with it (makeInitrdNG's prepend). */
  readonly initrd: string;
  /** The text of image/cmdline. */
  readonly cmdline: string;
  /**
   * What makeInitrdNG creates in the cpio's root besides the squashfs: directories
   * (24.11/25.05: var/empty; 25.11+: run, tmp and var/empty) and relative symlinks
   * (25.11+: var/run -> ../run).
   */
  readonly ramdiskSkeleton: { readonly directories: readonly string[]; readonly symlinks: readonly { readonly path: string; readonly target: string }[] };
  /** How the cpio after the stage-1 initrd is compressed (boot.initrd.compressor and its arguments). */
  readonly ramdiskCompression: { readonly algorithm: 'zstd' | 'gzip'; readonly level: number };
  /** netboot's squashfsStore (a file named by its store path inside the initrd) and its compression. */
  readonly squashfs: SquashfsCompressionPlan & { readonly path: string };
  /** netboot.storeContents: their closure, with its registration, is the squashfs's. */
  readonly storeContents: readonly string[];
  /** kexec_script: its store path and text (an executable file). */
  readonly script: { readonly path: string; readonly text: string };
  /** The script's other references (kexec-tools, cpio, the shell), built by Nix: their closure joins the tarball's. */
  readonly scriptInputs: readonly string[];
}

export interface KexecPlan {
  readonly version: 1;
  readonly kind: 'kexec';
  readonly format: string;
  readonly toplevel: string;
  /** make-system-tarball's input (kexec_tarball): storeContents is the script, linked from /kexec_nixos. */
  readonly tarball: TarballContentsPlan;
  readonly kexec: KexecImagePlan;
  /** The .tar.xz, or (kexec-bundle) the self-extracting stub followed by it. */
  readonly output: { readonly container: 'tar' | 'kexec-bundle'; readonly fileName: string; readonly compression: 'xz'; readonly stub?: string };
}

/** A port forward of QEMU's user network (virtualisation.forwardPorts). */
export interface VmForwardPlan {
  readonly from: 'host' | 'guest';
  readonly proto: 'tcp' | 'udp';
  readonly host: { readonly address: string; readonly port: number };
  readonly guest: { readonly address: string; readonly port: number };
}

/** What nixpkgs' qemu-vm.nix runner starts, from the virtualisation.* options. */
export interface VmRunnerPlan {
  /** system.name: bin/run-<name>-vm, the default disk ./<name>.qcow2, QEMU's -name. */
  readonly name: string;
  /** closureInfo of virtualisation.additionalPaths: regInfo=<path>/registration on the command line. */
  readonly regInfo: string;
  readonly memorySize: number;
  readonly cores: number;
  /** MiB of the disk created on first run; "auto": the format's default size. */
  readonly diskSize: number | 'auto';
  /** Default of $NIX_DISK_IMAGE (shell text); null: no root disk. */
  readonly diskImage: string | null;
  readonly graphics: boolean;
  /** console= parameters, the last one preferred. */
  readonly consoles: readonly string[];
  /** Kernel and initrd QEMU boots directly; null boots the disk through firmware (useBootLoader). */
  readonly directBoot: { readonly kernel: string; readonly initrd: string } | null;
  /** 9p shares by mount tag; source is shell text (it may name $TMPDIR). */
  readonly shares: readonly { readonly tag: string; readonly source: string; readonly securityModel: 'passthrough' | 'mapped-xattr' | 'mapped-file' | 'none' }[];
  readonly forwardPorts: readonly VmForwardPlan[];
  readonly restrictNetwork: boolean;
  /** qemu.networkingOptions and qemu.options other modules add (shell text, as qemu-vm.nix inserts them). */
  readonly networkingOptions: readonly string[];
  readonly qemuOptions: readonly string[];
  readonly virtioKeyboard: boolean;
  readonly useEFIBoot: boolean;
  /** -bios file. */
  readonly bios: string | null;
  readonly sharedMemory: boolean;
  readonly forceAccel: boolean;
}

export interface VmPlan {
  readonly version: 1;
  readonly kind: 'vm';
  readonly format: string;
  readonly toplevel: string;
  readonly vm: VmRunnerPlan;
  /** useBootLoader: the disk the runner boots (make-disk-image's systemImage), its store also holding regInfo's closure. */
  readonly disk: ImagePlan | null;
  /** fileName: the runner, bin/run-<name>-vm. */
  readonly output: { readonly container: 'vm-runner'; readonly fileName: string; readonly compression: 'none' };
}

/** Every kind of plan a format module exports. */
export type AnyImagePlan = ImagePlan | LivePlan | TarballPlan | KexecPlan | VmPlan;

export function isLivePlan(plan: AnyImagePlan): plan is LivePlan {
  return 'kind' in plan && plan.kind === 'live';
}

export function isTarballPlan(plan: AnyImagePlan): plan is TarballPlan {
  return 'kind' in plan && plan.kind === 'tarball';
}

export function isKexecPlan(plan: AnyImagePlan): plan is KexecPlan {
  return 'kind' in plan && plan.kind === 'kexec';
}

export function isVmPlan(plan: AnyImagePlan): plan is VmPlan {
  return 'kind' in plan && plan.kind === 'vm';
}

export function isDiskPlan(plan: AnyImagePlan): plan is ImagePlan {
  return !('kind' in plan) || plan.kind === undefined || plan.kind === 'disk';
}
