/**
 * The format registry: --list, --help and format validation all come from here. Names,
 * layouts, bootloaders and file names follow nixos-generators and the nixpkgs builders
 * behind it (docs/formats.md lists the deliberate differences).
 */
import { UsageError } from '../core/errors.js';
import type { TarballCommand } from '../plan/types.js';
import { proxmoxQemuServerConf } from '../container/proxmox-config.js';
import { DEFAULT_ADDITIONAL_SPACE_MIB as SPACE, nixpkgsBaseName as base, isDiskFormat, type AnyFormatDefinition, type FormatDefinition, type KexecFormatDefinition, type LiveFormatDefinition, type OutputNames, type SdFormatDefinition, type TarballFormatDefinition, type VmFormatDefinition } from './format.js';

const BIOS = { bios: true, efi: false } as const;
const EFI = { bios: false, efi: true } as const;

function format(definition: FormatDefinition): FormatDefinition {
  return definition;
}

/**
 * The ISO formats nixos-generators has: booted from a CD by BIOS (and by UEFI), EFI and
 * USB booting on, the file iso-image.nix names iso/<image.baseName>.iso with its default
 * baseName nixos-<label>-<system>.
 */
function live(definition: Pick<LiveFormatDefinition, 'name' | 'description' | 'nixModule'>): LiveFormatDefinition {
  return {
    kind: 'live', firmware: 'bios', live: { efi: true, usb: true }, ...definition,
    output: (n) => ({ container: 'iso', fileName: `iso/nixos-${n.label}-${n.system}.iso`, compression: 'none' }),
  };
}

/**
 * The container formats nixos-generators has: make-system-tarball's
 * tarball/<fileName>.tar.xz. `baseName` is the file name nixpkgs 25.05 gives it (from the
 * system's label, which carries the format's tags when the format module built it).
 */
function tarball(definition: Pick<TarballFormatDefinition, 'name' | 'description' | 'nixModule' | 'layout'> & { baseName(n: OutputNames): string }): TarballFormatDefinition {
  const { baseName, ...rest } = definition;
  return { kind: 'tarball', ...rest, output: (n) => ({ container: 'tar', fileName: `tarball/${baseName(n)}.tar.xz`, compression: 'xz' }) };
}

const mkdir = (...paths: string[]): TarballCommand[] => paths.map((path) => ({ op: 'mkdir', path }));
/** The stage-2 init copied to /sbin/init, as lxc-container.nix and proxmox-lxc.nix do (systemd stage 1: prepare-root). */
const sbinInit = (toplevel: string): { source: string; target: string } => ({ source: `${toplevel}/init`, target: '/sbin/init' });

/** make-system-tarball's default fileName. */
const systemTarballName = (n: OutputNames): string => `nixos-system-${n.system}`;

/** nixos-generators' kexec formats: make-system-tarball's default name, or the bundle's. */
function kexec(definition: Pick<KexecFormatDefinition, 'name' | 'description' | 'nixModule'> & { bundle: boolean }): KexecFormatDefinition {
  const { bundle, ...rest } = definition;
  return {
    kind: 'kexec', ...rest,
    output: (n) => (bundle
      ? { container: 'kexec-bundle', fileName: `${systemTarballName(n)}-kexec_bundle`, compression: 'xz' }
      : { container: 'tar', fileName: `tarball/${systemTarballName(n)}.tar.xz`, compression: 'xz' }),
  };
}

/** nixos-generators' sd-card formats: sd-image/<image.baseName>.img.zst, from the configuration only. */
function sd(definition: Omit<SdFormatDefinition, 'kind'>): SdFormatDefinition {
  return { kind: 'sd', ...definition };
}

/** nixos-generators' vm formats: bin/run-<system.name>-vm, from the configuration only. */
function vm(definition: Omit<VmFormatDefinition, 'kind'>): VmFormatDefinition {
  return { kind: 'vm', ...definition };
}

export const FORMATS: readonly AnyFormatDefinition[] = [
  format({
    name: 'amazon', description: 'Amazon EC2: dynamic VHD, GPT with a BIOS boot partition, GRUB for BIOS',
    layout: 'legacy+gpt', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'amazon.nix',
    output: (n) => ({ container: 'vhd', vhd: { subformat: 'dynamic' }, fileName: `${base(n)}.vhd`, compression: 'none', sideFiles: ['amazon-image-info'] }),
  }),
  format({
    name: 'azure', description: 'Azure (generation 1): fixed VHD of a whole number of MiB, MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'azure.nix',
    output: (n) => ({ container: 'vhd', vhd: { subformat: 'fixed' }, fileName: `${base(n)}.vhd`, compression: 'none' }),
  }),
  format({
    name: 'cloudstack', description: 'Apache CloudStack: qcow2, MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'cloudstack.nix',
    output: () => ({ container: 'qcow2', fileName: 'nixos.qcow2', compression: 'none' }),
  }),
  format({
    name: 'do', description: 'DigitalOcean: gzip-compressed qcow2, MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'do.nix',
    output: (n) => ({ container: 'qcow2', fileName: `${base(n)}.qcow2.gz`, compression: 'gzip' }),
  }),
  tarball({
    name: 'docker', description: 'Docker/Podman root tarball (docker import), the system run as /init',
    nixModule: 'docker.nix', baseName: systemTarballName,
    // docker-container.nix; its storeContents add pkgs.stdenv, which a --toplevel build cannot know.
    layout: (toplevel) => ({
      contents: [{ source: `${toplevel}/.`, target: './' }], storePaths: [toplevel], symlinks: [],
      commands: [{ op: 'rm', path: 'etc' }, ...mkdir('proc', 'sys', 'dev', 'etc')],
    }),
  }),
  format({
    name: 'gce', description: 'Google Compute Engine: disk.raw in a sparse tar.gz, MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'gce.nix',
    output: (n) => ({ container: 'gce-tar', fileName: `${base(n)}.raw.tar.gz`, compression: 'none', compressionLevel: 6 }),
  }),
  format({
    name: 'hyperv', description: 'Hyper-V (generation 2): dynamic VHDX, GPT with ESP, GRUB for UEFI',
    layout: 'efi', grub: EFI, additionalSpace: SPACE, firmware: 'uefi', nixModule: 'hyperv.nix',
    output: (n) => ({ container: 'vhdx', fileName: `${base(n)}.vhdx`, compression: 'none' }),
  }),
  live({
    name: 'iso', description: 'live ISO: the store in a squashfs, isolinux for BIOS, GRUB for UEFI, isohybrid for USB sticks',
    nixModule: 'iso.nix',
  }),
  live({
    name: 'install-iso', description: 'installation ISO (nixpkgs\' installation-cd-base): the iso format plus the installer profiles, sshd and wpa_supplicant started',
    nixModule: 'install-iso.nix',
  }),
  live({
    name: 'install-iso-hyperv', description: 'install-iso with the Hyper-V guest support (wpa_supplicant not started)',
    nixModule: 'install-iso-hyperv.nix',
  }),
  kexec({
    name: 'kexec', description: 'kexec tarball: unpack to / on a running Linux and run /kexec_nixos (system in the initrd)',
    nixModule: 'kexec.nix', bundle: false,
  }),
  kexec({
    name: 'kexec-bundle', description: 'kexec as one self-extracting executable',
    nixModule: 'kexec-bundle.nix', bundle: true,
  }),
  format({
    name: 'kubevirt', description: 'KubeVirt: qcow2, MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'kubevirt.nix',
    output: (n) => ({ container: 'qcow2', fileName: `${base(n)}.qcow2`, compression: 'none' }),
  }),
  tarball({
    name: 'lxc', description: 'LXC/Incus root tarball (with lxc-metadata\'s metadata tarball)',
    nixModule: 'lxc.nix', baseName: base,
    layout: (toplevel) => ({
      contents: [sbinInit(toplevel), { source: `${toplevel}/etc/os-release`, target: '/etc/os-release' }],
      storePaths: [toplevel], symlinks: [], commands: mkdir('proc', 'sys', 'dev'),
    }),
  }),
  tarball({
    name: 'lxc-metadata', description: 'LXC/Incus metadata tarball: metadata.yaml and virtualisation.lxc.templates',
    nixModule: 'lxc-metadata.nix', baseName: base,
    layout: undefined,
  }),
  format({
    name: 'linode', description: 'Linode: gzip-compressed bare ext4 (no partition table), grub.cfg for Linode\'s GRUB',
    layout: 'none', grub: { bios: false, efi: false }, additionalSpace: SPACE, firmware: 'none', nixModule: 'linode.nix',
    output: () => ({ container: 'raw', fileName: 'nixos.img.gz', compression: 'gzip', compressionLevel: 6 }),
  }),
  format({
    name: 'openstack', description: 'OpenStack: qcow2, MBR, GRUB for BIOS, 1 GiB free',
    layout: 'legacy', grub: BIOS, additionalSpace: 1024, firmware: 'bios', nixModule: 'openstack.nix',
    output: (n) => ({ container: 'qcow2', fileName: `${base(n)}.qcow2`, compression: 'none' }),
  }),
  format({
    name: 'proxmox', description: 'Proxmox VE: zstd-compressed VMA backup with its qemu-server.conf, MBR, GRUB for BIOS (SeaBIOS)',
    layout: 'legacy', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'proxmox.nix',
    output: (n, diskSize) => ({
      container: 'vma',
      fileName: `vzdump-qemu-nixos-${n.label}.vma.zst`,
      compression: 'zstd',
      proxmox: { qemuServerConf: defaultProxmoxConf(`nixos-${n.label}`, diskSize) },
    }),
  }),
  tarball({
    name: 'proxmox-lxc', description: 'Proxmox VE container template (pct create), the system run as /sbin/init',
    nixModule: 'proxmox-lxc.nix', baseName: base,
    layout: (toplevel) => ({ contents: [sbinInit(toplevel)], storePaths: [toplevel], symlinks: [], commands: mkdir('root', 'etc/systemd/network') }),
  }),
  format({
    name: 'qcow', description: 'qcow2, GPT with ESP and a BIOS boot partition, GRUB for BIOS and UEFI',
    layout: 'hybrid', grub: { bios: true, efi: true }, additionalSpace: SPACE, firmware: 'bios', nixModule: 'qcow.nix',
    output: () => ({ container: 'qcow2', fileName: 'nixos.qcow2', compression: 'none' }),
  }),
  format({
    name: 'qcow-efi', description: 'qcow2, GPT with ESP, GRUB for UEFI',
    layout: 'efi', grub: EFI, additionalSpace: SPACE, firmware: 'uefi', nixModule: 'qcow-efi.nix',
    output: () => ({ container: 'qcow2', fileName: 'nixos.qcow2', compression: 'none' }),
  }),
  format({
    name: 'raw', description: 'raw disk image, MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: SPACE, firmware: 'bios', nixModule: 'raw.nix',
    output: () => ({ container: 'raw', fileName: 'nixos.img', compression: 'none' }),
  }),
  format({
    name: 'raw-efi', description: 'raw disk image, GPT with ESP, GRUB for UEFI',
    layout: 'efi', grub: EFI, additionalSpace: SPACE, firmware: 'uefi', nixModule: 'raw-efi.nix',
    output: () => ({ container: 'raw', fileName: 'nixos.img', compression: 'none' }),
  }),
  sd({
    name: 'sd-aarch64', description: 'SD card for aarch64 boards (Raspberry Pi 3/4, QEMU virt): zstd-compressed raw, MBR, FIRMWARE partition, extlinux.conf for U-Boot',
    nixModule: 'sd-aarch64.nix',
  }),
  sd({
    name: 'sd-aarch64-installer', description: 'sd-aarch64 with the installer profile (installation-device.nix)',
    nixModule: 'sd-aarch64-installer.nix',
  }),
  sd({
    name: 'sd-x86_64', description: 'SD card image for x86_64 (sd-image-x86_64.nix): as sd-aarch64 with an empty FIRMWARE partition, booted by U-Boot',
    nixModule: 'sd-x86_64.nix',
  }),
  format({
    name: 'vagrant-virtualbox', description: 'Vagrant box for the VirtualBox provider (OVF + streamOptimized VMDK), MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: 30720, firmware: 'bios', nixModule: 'vagrant-virtualbox.nix',
    output: (n) => ({
      // <image.baseName>.box; nixpkgs 25.05 names its box <baseName>.ova (README: deliberate differences).
      container: 'vagrant-box', fileName: `${base(n)}.box`, compression: 'none',
      virtualMachine: { name: `NixOS ${n.label} (${n.system})`, memoryMiB: 1536, cpus: 1 },
    }),
  }),
  format({
    name: 'virtualbox', description: 'VirtualBox OVA (OVF + streamOptimized VMDK), MBR, GRUB for BIOS',
    layout: 'legacy', grub: BIOS, additionalSpace: 30720, firmware: 'bios', nixModule: 'virtualbox.nix',
    output: (n) => ({
      container: 'ova', fileName: `${base(n)}.ova`, compression: 'none',
      virtualMachine: { name: `NixOS ${n.label} (${n.system})`, memoryMiB: 1536, cpus: 1 },
    }),
  }),
  vm({
    name: 'vm', description: 'QEMU runner bin/run-<host>-vm (qemu-vm.nix): the kernel booted directly, the host\'s store over 9p, a disk made on first run',
    nixModule: 'vm.nix',
  }),
  vm({
    name: 'vm-bootloader', description: 'the vm runner booting the system\'s boot loader from a qcow2 (GRUB by BIOS, or by UEFI with useEFIBoot) through an overlay',
    nixModule: 'vm-bootloader.nix',
  }),
  vm({
    name: 'vm-nogui', description: 'the vm runner without graphics: serial console and QEMU monitor on the terminal',
    nixModule: 'vm-nogui.nix',
  }),
  format({
    name: 'vmware', description: 'VMware: monolithicSparse VMDK, GPT with ESP, GRUB for UEFI',
    layout: 'efi', grub: EFI, additionalSpace: SPACE, firmware: 'uefi', nixModule: 'vmware.nix',
    output: (n) => ({ container: 'vmdk', vmdk: { subformat: 'monolithicSparse' }, fileName: `${base(n)}.vmdk`, compression: 'none' }),
  }),
];

/**
 * nixpkgs' proxmox.qemuConf defaults, with the VM named after the system's label. Since
 * 24.11 qemuConf.diskSize is an alias of virtualisation.diskSize, so its line is the disk size.
 */
function defaultProxmoxConf(name: string, diskSize: number | 'auto'): string {
  return proxmoxQemuServerConf({ qemuConf: { name, diskSize: String(diskSize) } });
}

export function formatNames(): string[] {
  return FORMATS.map((f) => f.name).sort();
}

export function findFormat(name: string): AnyFormatDefinition {
  const format = FORMATS.find((f) => f.name === name);
  if (format === undefined) {
    throw new UsageError('format.unknown', `Unknown format "${name}"`, {
      hint: `run "nixos-generate --list" to see the formats (${formatNames().join(', ')})`,
    });
  }
  return format;
}

/** A disk format by name (benchmarks and tools that need a disk plan). */
export function findDiskFormat(name: string): FormatDefinition {
  const format = findFormat(name);
  if (!isDiskFormat(format)) throw new UsageError('format.not-disk', `Cannot use "${name}" here: it is a ${format.kind === 'live' ? 'live ISO' : format.kind === 'kexec' ? 'kexec tarball' : format.kind === 'vm' ? 'QEMU runner' : format.kind === 'sd' ? 'sd-card image' : 'system tarball'}, not a disk image`);
  return format;
}
