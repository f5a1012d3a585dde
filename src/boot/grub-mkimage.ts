/**
 * Which grub-mkimage assembles a GRUB image. GRUB's grub-mkimage builds images for every
 * platform from that platform's modules directory, so the build machine's own one can
 * assemble an arm64-efi GRUB from an aarch64 system's modules: no program of the target
 * architecture runs. The system's own grub-mkimage is used when this machine can run it;
 * otherwise the plan's `mkimage` (the build machine's GRUB, which the Nix layer adds when
 * the system is for another platform), else `grub-mkimage` on PATH.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ImageError } from '../core/errors.js';

/** ELF e_machine values of the architectures Node runs on. */
const ELF_MACHINE_BY_NODE_ARCH: Readonly<Record<string, number>> = { x64: 62, ia32: 3, arm64: 183, arm: 40, riscv64: 243, loong64: 258, ppc64: 21, s390x: 22 };
const ELF_MACHINE_NAMES: Readonly<Record<number, string>> = { 62: 'x86_64', 3: 'i686', 183: 'aarch64', 40: 'armv7l', 243: 'riscv64', 258: 'loongarch64', 21: 'powerpc64', 22: 's390x' };

/** The ELF machine of a program, or undefined for a script or unreadable file. */
export function elfMachine(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(20);
    if (readSync(fd, header, 0, 20, 0) < 20 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

/** Whether this machine runs the program natively (scripts count as runnable). */
export function runsHere(path: string): boolean {
  const machine = elfMachine(path);
  return machine === undefined || machine === ELF_MACHINE_BY_NODE_ARCH[process.arch];
}

function onPath(name: string): string | undefined {
  for (const directory of (process.env['PATH'] ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    if (existsSync(candidate) && runsHere(candidate)) return candidate;
  }
  return undefined;
}

/** The grub-mkimage to run for a GRUB package whose modules are for `target`. */
export function grubMkimageFor(grubPackage: string, target: string, planMkimage: string | undefined): string {
  const own = `${grubPackage}/bin/grub-mkimage`;
  if (existsSync(own) && runsHere(own)) return own;
  if (planMkimage !== undefined) return planMkimage;
  const found = onPath('grub-mkimage');
  if (found !== undefined) return found;
  const machine = elfMachine(own);
  throw new ImageError('grub.mkimage-foreign', `Cannot assemble GRUB for ${target}: the system's grub-mkimage is ${existsSync(own) ? `a program for ${ELF_MACHINE_NAMES[machine ?? 0] ?? 'another architecture'}` : 'missing'} and no grub-mkimage of this machine was found`, {
    hint: 'build from the configuration (-c or --flake: the plan brings the build machine\'s GRUB), or install GRUB\'s tools on this machine (Debian: apt-get install grub-common)',
  });
}
