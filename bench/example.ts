/** Shared by the benchmarks: the example system with a payload, and timed commands. */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
export const CLI = join(REPO, 'dist/src/bin.js');

/** Builds the example system with `files` random files of about `mebibytes` MiB; returns the toplevel. */
export function exampleWithPayload(hostName: string, files: number, mebibytes: number): string {
  const result = spawnSync('nix-build', ['--no-out-link', join(REPO, 'example/system.nix'), '--argstr', 'hostName', hostName,
    '--arg', 'payloadFiles', String(files), '--arg', 'payloadMiB', String(mebibytes)],
  { encoding: 'utf8', env: { ...process.env, NIX_CONFIG: `${process.env['NIX_CONFIG'] ?? ''}\nsubstituters =` }, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`nix-build of the example system failed:\n${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1)!;
}

export interface Measurement {
  readonly seconds: number;
  readonly peakKiB: number;
}

/** Runs a command under GNU time (apt-get install time); returns wall seconds and peak RSS. */
export function timed(command: string, args: readonly string[]): Measurement {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  const [seconds, kib] = result.stderr.trim().split('\n').at(-1)!.split(' ');
  return { seconds: Number(seconds), peakKiB: Number(kib) };
}

export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
