/** Boots images in QEMU (software emulation is fine) and returns what the serial console printed. */
import { spawn } from 'node:child_process';
import { kernelQemuArguments, qemuArguments, qemuProgram } from '../../src/cli/run-qemu.js';

/** host, esp, profile, nixdb, and store: "root" for a disk, "overlay+squashfs" for a live system. */
export const MARKER = /EXAMPLE-SYSTEM-BOOTED host=(\S+) esp=(\S+) profile=(\S+) nixdb=(\S+) store=(\S+)/;

export interface BootResult {
  readonly console: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
}

/**
 * Boots with the same QEMU command line --run uses (driveFormat as QEMU names it: raw,
 * qcow2, vpc, vhdx, vmdk); the example system powers off by itself.
 */
export function boot(image: string, driveFormat: string, firmware: 'bios' | 'uefi' | 'u-boot' = 'uefi', timeoutMs = 240_000, extraArgs: readonly string[] = [], system = 'x86_64-linux'): Promise<BootResult> {
  return bootQemu([...qemuArguments(image, driveFormat, firmware, process.env, system), ...extraArgs], timeoutMs, qemuProgram(system));
}

/** Boots a kernel, an initrd and a command line directly, with the command line --run uses for a kexec image. */
export function bootKernel(kernel: string, initrd: string, commandLine: string, timeoutMs = 240_000, system = 'x86_64-linux'): Promise<BootResult> {
  return bootQemu(kernelQemuArguments(kernel, initrd, commandLine, process.env, system), timeoutMs, qemuProgram(system));
}

/** Runs QEMU with `args` (which ask for -nographic), the serial console captured. */
function bootQemu(args: readonly string[], timeoutMs: number, program = 'qemu-system-x86_64'): Promise<BootResult> {
  // Serial console to stdout, no monitor, no graphics.
  const finalArgs = args.flatMap((a) => (a === '-nographic' ? ['-display', 'none', '-serial', 'stdio', '-monitor', 'none'] : [a]));
  return new Promise((resolve, reject) => {
    const child = spawn(program, finalArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('latin1').on('data', (d: string) => { output += d; });
    child.stderr.setEncoding('latin1').on('data', (d: string) => { output += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ console: output.replace(/\r/g, ''), exitCode: code, timedOut });
    });
  });
}
