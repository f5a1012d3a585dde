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

export function findOvmf(env: NodeJS.ProcessEnv): string {
  const fromEnv = env['OVMF_FD'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const found = OVMF_CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) {
    throw new ImageError('run.no-ovmf', 'Cannot boot the image: no OVMF firmware found', {
      hint: 'install it (Debian: apt-get install ovmf) or set OVMF_FD to the firmware file',
    });
  }
  return found;
}

/** QEMU's name for the disk format of a container it can open directly. */
export function qemuDriveFormat(output: Pick<OutputPlan, 'container' | 'compression'>): string | undefined {
  if (output.compression !== 'none') return undefined;
  const formats: Partial<Record<OutputPlan['container'], string>> = { raw: 'raw', qcow2: 'qcow2', vhd: 'vpc', vhdx: 'vhdx', vmdk: 'vmdk' };
  return formats[output.container];
}

/** The QEMU command line --run and the boot tests use; driveFormat "cdrom" and "usb" boot a raw image as a CD or a USB stick. */
export function qemuArguments(image: string, driveFormat: string, firmware: Exclude<Firmware, 'none'>, env: NodeJS.ProcessEnv): string[] {
  const args = ['-machine', 'q35', '-m', '1024', '-nographic', '-no-reboot'];
  // Software emulation unless asked otherwise: a present /dev/kvm can still be unusable
  // (nested virtualisation), and TCG always works.
  const accel = env['NIXOS_GENERATE_ACCEL'];
  args.push('-accel', accel !== undefined && accel !== '' ? accel : 'tcg');
  if (firmware === 'uefi') args.push('-bios', findOvmf(env));
  if (driveFormat === 'cdrom') {
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
export function runQemu(image: string, driveFormat: string, firmware: Exclude<Firmware, 'none'>, env: NodeJS.ProcessEnv, extra: readonly string[] = []): Promise<number> {
  return spawnQemu([...qemuArguments(image, driveFormat, firmware, env), ...extra]);
}

/**
 * The QEMU command line that boots a kernel, an initrd and a command line directly (a
 * kexec image), with memory for an initrd that holds the whole store.
 */
export function kernelQemuArguments(kernel: string, initrd: string, commandLine: string, env: NodeJS.ProcessEnv): string[] {
  const accel = env['NIXOS_GENERATE_ACCEL'];
  return ['-machine', 'q35', '-m', '2048', '-nographic', '-no-reboot', '-accel', accel !== undefined && accel !== '' ? accel : 'tcg',
    '-kernel', kernel, '-initrd', initrd, '-append', commandLine];
}

export function spawnQemu(args: readonly string[]): Promise<number> {
  return runTool('qemu-system-x86_64', args, {
    code: 'run.no-qemu', action: 'Cannot boot the image', hint: 'install QEMU (Debian: apt-get install qemu-system-x86)',
  });
}
