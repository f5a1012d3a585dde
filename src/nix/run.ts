/**
 * Runs Nix commands (argv arrays, never shell strings). A failure is reported with the
 * gist of Nix's error on one line, then the exact command and Nix's stderr.
 */
import { spawn } from 'node:child_process';
import { ImageError } from '../core/errors.js';

export interface NixResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface NixRunOptions {
  /** What we were trying to do, for the error message ("evaluate the configuration"). */
  readonly action: string;
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each line Nix prints on stderr (build logs), for progress display. */
  readonly onLog?: (line: string) => void;
}

const STDERR_KEEP = 64 * 1024;

/** Quotes an argument for display only. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The most telling line of Nix's stderr: its first "error:" line, cleaned of colour codes. */
export function nixErrorGist(stderr: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const clean = stderr.replace(/\x1b\[[0-9;]*m/g, '');
  const lines = clean.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const errorLine = lines.find((l) => l.startsWith('error:'));
  if (errorLine === undefined) return lines.at(-1);
  const index = lines.indexOf(errorLine);
  let gist = errorLine.replace(/^error:\s*/, '');
  let next = index + 1;
  // Nix 2.x puts the message on the line after "error:" when there is a trace.
  if (gist === '' && lines[next] !== undefined) gist = lines[next++]!;
  // NixOS's failed assertions: the list follows; keep every item on the one line.
  if (gist === 'Failed assertions:') {
    const items: string[] = [];
    while (lines[next]?.startsWith('- ') === true) items.push(lines[next++]!.slice(2));
    if (items.length > 0) gist = `failed assertion: ${items.join('; ')}`;
  }
  return gist;
}

export function runNix(command: string, args: readonly string[], options: NixRunOptions): Promise<NixResult> {
  const commandLine = [command, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > STDERR_KEEP * 2) stderr = stderr.slice(-STDERR_KEEP);
      if (options.onLog !== undefined) {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) options.onLog(line);
      }
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') {
        reject(error);
      } else if (error.code === 'ENOENT') {
        reject(new ImageError('nix.not-found', `Cannot ${options.action}: the "${command}" command was not found`, {
          hint: 'install Nix (on Debian: apt-get install nix-bin) or put it on PATH',
        }));
      } else {
        reject(new ImageError('nix.spawn-failed', `Cannot ${options.action}: ${command} could not start (${error.code ?? error.message})`));
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const gist = nixErrorGist(stderr) ?? `${command} ${signal === null ? `exited ${code}` : `was killed by ${signal}`}`;
      reject(new ImageError('nix.failed', `Cannot ${options.action}: ${gist}`, {
        hint: nixHint(stderr),
        details: `command: ${commandLine}\n${stderr.trimEnd()}`,
      }));
    });
  });
}

function nixHint(stderr: string): string | undefined {
  if (/file 'nixpkgs' was not found in the Nix search path/.test(stderr)) {
    return 'pass -I nixpkgs=PATH or set NIX_PATH to a nixpkgs checkout';
  }
  if (/--show-trace/.test(stderr)) return 'run again with --show-trace for the full evaluation trace';
  return undefined;
}
