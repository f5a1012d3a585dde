/**
 * --run: boots a built image in QEMU with the serial console on this terminal. The image
 * is opened with snapshot=on, so booting never changes the artifact that was built.
 */
import { existsSync } from 'node:fs';
import { ImageError } from '../core/errors.js';
import type { Firmware } from '../formats/format.js';
import type { OutputPlan } from '../plan/types.js';
import { runTool } from './run-tool.js';

const OVMF_CANDIDATES = ['/usr/share/ovmf/OVMF.fd', '/usr/share/OVMF/OVMF_CODE.fd', '/run/libvirt/nix-ovmf/OVMF_CODE.fd'];
/** UEFI for QEMU's arm "virt" machine as one -bios file (AAVMF_CODE.fd needs pflash units). */
const AAVMF_CANDIDATES = ['/usr/share/qemu-efi-aarch64/QEMU_EFI.fd', '/usr/share/AAVMF/QEMU_EFI.fd', '/run/libvirt/nix-ovmf/QEMU_EFI.fd'];
/** U-Boot built for QEMU's machines (Debian's u-boot-qemu), which reads extlinux.conf. */
const UBOOT_CANDIDATES: Readonly<Record<string, readonly string[]>> = {
  aarch64: ['/usr/lib/u-boot/qemu_arm64/u-boot.bin'],
  x86_64: ['/usr/lib/u-boot/qemu-x86/u-boot.rom'],
};

function findFirmware(env: NodeJS.ProcessEnv, variable: string, candidates: readonly string[], what: string, install: string): string {
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new ImageError('run.no-firmware', `Cannot boot the image: no ${what} found`, {
      hint: `install it (Debian: apt-get install ${install}) or set ${variable} to the firmware file`,
    });
  }
  return found;
}

export function findOvmf(env: NodeJS.ProcessEnv): string {
  return findFirmware(env, 'OVMF_FD', OVMF_CANDIDATES, 'OVMF firmware', 'ovmf');
}

/** The CPU family of a Nix system string: "aarch64" for "aarch64-linux". */
function cpuOf(system: string): 'x86_64' | 'aarch64' {
  const cpu = system.split('-')[0];
  if (cpu === 'x86_64' || cpu === 'aarch64') return cpu;
  throw new ImageError('run.system', `Cannot boot a ${system} image: --run boots x86_64-linux and aarch64-linux images`, { hint: 'boot it on its own hardware' });
}

/** QEMU's arm "virt" machine, what aarch64 images boot on here. */
const ARM_VIRT = ['-machine', 'virt', '-cpu', 'cortex-a57'] as const;

/** The machine, CPU and firmware options of QEMU for a system. */
function machineArguments(system: string, firmware: Exclude<Firmware, 'none'>, env: NodeJS.ProcessEnv): string[] {
  const cpu = cpuOf(system);
  if (firmware === 'u-boot') {
    const uboot = findFirmware(env, 'UBOOT_BIN', UBOOT_CANDIDATES[cpu] ?? [], `U-Boot for QEMU's ${cpu} machine`, 'u-boot-qemu');
    return cpu === 'aarch64' ? [...ARM_VIRT, '-bios', uboot] : ['-machine', 'pc', '-bios', uboot];
  }
  if (cpu === 'aarch64') {
    if (firmware === 'bios') throw new ImageError('run.firmware', `Cannot boot a ${system} image with a PC BIOS`, { hint: 'use a UEFI or sd-card format' });
    return [...ARM_VIRT, '-bios', findFirmware(env, 'AAVMF_FD', AAVMF_CANDIDATES, 'UEFI firmware for aarch64 (AAVMF)', 'qemu-efi-aarch64')];
  }
  return ['-machine', 'q35', ...(firmware === 'uefi' ? ['-bios', findOvmf(env)] : [])];
}

/** The QEMU program of a system: qemu-system-x86_64, qemu-system-aarch64. */
export function qemuProgram(system: string): string {
  return `qemu-system-${cpuOf(system)}`;
}

/** QEMU's name for the disk format of a container it can open directly. */
export function qemuDriveFormat(output: Pick<OutputPlan, 'container' | 'compression'>): string | undefined {
  if (output.compression !== 'none') return undefined;
  const formats: Partial<Record<OutputPlan['container'], string>> = { raw: 'raw', qcow2: 'qcow2', vhd: 'vpc', vhdx: 'vhdx', vmdk: 'vmdk' };
  return formats[output.container];
}

/**
 * The QEMU command line --run and the boot tests use; driveFormat "cdrom" and "usb" boot a
 * raw image as a CD or a USB stick. `system` picks the machine: a PC (q35) for x86_64-linux,
 * the arm "virt" machine for aarch64-linux.
 */
export function qemuArguments(image: string, driveFormat: string, firmware: Exclude<Firmware, 'none'>, env: NodeJS.ProcessEnv, system = 'x86_64-linux'): string[] {
  const args = [...machineArguments(system, firmware, env), '-m', '1024', '-nographic', '-no-reboot'];
  // Software emulation unless asked otherwise: a present /dev/kvm can still be unusable
  // (nested virtualisation), and TCG always works.
  const accel = env['NIXOS_GENERATE_ACCEL'];
  args.push('-accel', accel !== undefined && accel !== '' ? accel : 'tcg');
  if (driveFormat === 'cdrom' && cpuOf(system) === 'aarch64') {
    // The virt machine has no IDE or AHCI: a SCSI CD drive on virtio-scsi.
    args.push('-drive', `file=${image},format=raw,if=none,id=cd,media=cdrom,readonly=on`, '-device', 'virtio-scsi-pci', '-device', 'scsi-cd,drive=cd');
  } else if (driveFormat === 'cdrom') {
    // A live ISO in a CD drive (AHCI on q35), as firmware boots it from a disc.
    args.push('-drive', `file=${image},format=raw,media=cdrom,readonly=on`);
  } else if (driveFormat === 'usb') {
    // An isohybrid image written to a USB stick (XHCI), as firmware boots it from a disk.
    args.push('-drive', `file=${image},format=raw,if=none,id=stick,snapshot=on`, '-device', 'qemu-xhci', '-device', 'usb-storage,drive=stick,bootindex=0');
  } else {
    args.push('-drive', `file=${image},format=${driveFormat},if=virtio,snapshot=on`);
  }
  return args;
}

/** Boots with qemuArguments, then `extra` (what the user gave after "--"). */
export function runQemu(image: string, driveFormat: string, firmware: Exclude<Firmware, 'none'>, env: NodeJS.ProcessEnv, extra: readonly string[] = [], system = 'x86_64-linux'): Promise<number> {
  return spawnQemu([...qemuArguments(image, driveFormat, firmware, env, system), ...extra], system);
}

/**
 * The QEMU command line that boots a kernel, an initrd and a command line directly (a
 * kexec image), with memory for an initrd that holds the whole store. On the arm virt
 * machine the serial console is ttyAMA0, which the command line gets added so the
 * console shows on the terminal (nixos-generators' kexec names only ttyS0).
 */
export function kernelQemuArguments(kernel: string, initrd: string, commandLine: string, env: NodeJS.ProcessEnv, system = 'x86_64-linux'): string[] {
  const accel = env['NIXOS_GENERATE_ACCEL'];
  const aarch64 = cpuOf(system) === 'aarch64';
  const machine = aarch64 ? ARM_VIRT : ['-machine', 'q35'];
  return [...machine, '-m', '2048', '-nographic', '-no-reboot', '-accel', accel !== undefined && accel !== '' ? accel : 'tcg',
    '-kernel', kernel, '-initrd', initrd, '-append', aarch64 ? `${commandLine} console=ttyAMA0,115200` : commandLine];
}

export function spawnQemu(args: readonly string[], system = 'x86_64-linux'): Promise<number> {
  return runTool(qemuProgram(system), args, {
    code: 'run.no-qemu', action: 'Cannot boot the image', hint: `install QEMU (Debian: apt-get install ${cpuOf(system) === 'aarch64' ? 'qemu-system-arm' : 'qemu-system-x86'})`,
  });
}
