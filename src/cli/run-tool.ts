/**
 * Starts the program --run hands the terminal to (QEMU, podman, a vm runner) and resolves
 * with its exit status; a program that cannot start is one line saying which and why.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { ImageError } from '../core/errors.js';

export interface RunToolOptions {
  /** The ImageError code, the line's start ("Cannot boot the image") and the fix to suggest. */
  readonly code: string;
  readonly action: string;
  readonly hint: string;
  readonly stdio?: StdioOptions;
  readonly env?: NodeJS.ProcessEnv;
}

export function runTool(command: string, args: readonly string[], options: RunToolOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: options.stdio ?? 'inherit', ...(options.env === undefined ? {} : { env: options.env }) });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(new ImageError(options.code, `${options.action}: ${command} ${error.code === 'ENOENT' ? 'was not found' : `failed (${error.code ?? error.message})`}`, {
        hint: options.hint,
      }));
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}
