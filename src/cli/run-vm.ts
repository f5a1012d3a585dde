/**
 * --run for the vm formats: starts the built runner (bin/run-<name>-vm) in the current
 * directory, as nixos-generators' --run does, so its disk ./<name>.qcow2 lands there and
 * is reused by the next run. The arguments after "--" go to QEMU through the runner.
 */
import { spawn } from 'node:child_process';
import { ImageError } from '../core/errors.js';

export function runVm(runner: string, env: NodeJS.ProcessEnv, extra: readonly string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(runner, [...extra], { stdio: 'inherit', env });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(new ImageError('run.runner', `Cannot start the runner "${runner}": ${error.code ?? error.message}`, {
        hint: 'run it directly to see why; it needs /bin/sh',
      }));
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}
