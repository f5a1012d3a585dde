/** Runs reference tools for tests; a missing tool is a test failure, never a skip. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], options: { input?: string | Uint8Array; env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunResult {
  const result = spawnSync(command, args, {
    input: options.input,
    env: options.env ?? process.env,
    cwd: options.cwd,
    maxBuffer: 1 << 30,
    encoding: 'latin1',
  });
  if (result.error !== undefined) throw new Error(`cannot run ${command}: ${result.error.message}`);
  return { status: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a command and fails the test unless it exits 0. */
export function runOk(command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): RunResult {
  const result = run(command, args, options);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** A fresh temporary directory removed when the returned disposer runs. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `ngts-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs a command and sends it `signal` (SIGINT) 200 ms after its stderr first matches `when` (a phase starting). */
export async function runInterrupted(command: string, args: readonly string[], when: RegExp, signal: NodeJS.Signals = 'SIGINT'): Promise<{ status: number | null; stdout: string; stderr: string; signalled: boolean }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  let signalled = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!signalled && when.test(stderr)) {
      signalled = true;
      setTimeout(() => child.kill(signal), 200);
    }
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { status, stdout, stderr, signalled };
}
