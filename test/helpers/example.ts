/** The bundled example system (also the test fixture), built by real Nix. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './run.js';

export const REPO = process.cwd();
export const EXAMPLE_DIR = join(REPO, 'example');
export const EXAMPLE_NIXPKGS = join(EXAMPLE_DIR, 'nixpkgs');
export const CLI = join(REPO, 'dist/src/bin.js');

const built = new Map<string, string>();

/** Builds (or reuses) the example toplevel for a host name (and system) and returns its store path. */
export function exampleToplevel(hostName: string, system = 'x86_64-linux'): string {
  const key = `${system}/${hostName}`;
  let path = built.get(key);
  if (path === undefined) {
    path = runOk(join(EXAMPLE_DIR, 'build-system'), ['--system', system, hostName]).stdout.trim();
    built.set(key, path);
  }
  return path;
}

/** The example system with a synthetic payload of `files` random files (about `mebibytes` MiB). */
export function exampleWithPayload(hostName: string, files: number, mebibytes: number, system = 'x86_64-linux'): string {
  const key = `${system}/${hostName}/${files}/${mebibytes}`;
  let path = built.get(key);
  if (path === undefined) {
    const out = runOk('nix-build', [
      '--no-out-link', join(EXAMPLE_DIR, 'system.nix'), '--argstr', 'hostName', hostName,
      '--arg', 'payloadFiles', String(files), '--arg', 'payloadMiB', String(mebibytes), '--argstr', 'system', system,
    ]).stdout.trim().split('\n');
    path = out[out.length - 1]!;
    built.set(key, path);
  }
  return path;
}

/**
 * Squashfs settings for tests whose subject is not the compressor: zstd at level 3
 * writes the example closure's squashfs in about a fifteenth of the CPU time of nixpkgs'
 * default, level 19. The default itself is built, checked byte for byte, booted and built
 * again by iso.test.ts and kexec.test.ts, and by every --toplevel ISO.
 */
export const QUICK_ISO_SQUASHFS = 'isoImage.squashfsCompression = "zstd -Xcompression-level 3";';
export const QUICK_NETBOOT_SQUASHFS = 'netboot.squashfsCompression = "zstd -Xcompression-level 3";';

/** Writes `<dir>/<name>.nix`: the example configuration with a host name and `body` added; returns its path. */
export function exampleConfiguration(dir: string, name: string, hostName: string, body: string): string {
  const path = join(dir, `${name}.nix`);
  writeFileSync(path, `{ lib, pkgs, ... }: {
  imports = [ ${join(EXAMPLE_DIR, 'configuration.nix')} ];
  networking.hostName = "${hostName}";
  ${body}
}
`);
  return path;
}
