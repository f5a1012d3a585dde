/**
 * --run for the container tarballs: imports the tarball into podman as a temporary image
 * and runs the system's init in it (docker: /init, as docker-container.nix sets it; lxc and
 * proxmox-lxc: /sbin/init), removing the container and the image afterwards. The built
 * tarball is only read. The arguments after "--" are podman run options (--network none,
 * --runtime runc, ...).
 */
import { ImageError, UsageError } from '../core/errors.js';
import type { TarballPlan } from '../plan/types.js';
import { runTool } from './run-tool.js';

/** The init a container runtime starts, per format; formats missing here cannot be run. */
const CONTAINER_INIT: Readonly<Record<string, string>> = { docker: '/init', lxc: '/sbin/init', 'proxmox-lxc': '/sbin/init' };

export function containerInit(format: string): string {
  const init = CONTAINER_INIT[format];
  if (init === undefined) {
    throw new UsageError('cli.run', `Option --run cannot start ${format}: it is not a root filesystem a container runs`, {
      hint: 'import it with its root tarball instead (docs/importing.md)',
    });
  }
  return init;
}

function podman(args: readonly string[], stdio: 'inherit' | 'quiet'): Promise<number> {
  return runTool('podman', args, {
    code: 'run.no-podman', action: 'Cannot start the container',
    hint: 'install podman (Debian: apt-get install podman), or import the tarball into your runtime as docs/importing.md shows',
    stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'ignore', 'inherit'],
  });
}

/** Imports `tarball`, runs its init with the terminal attached, then removes the image. */
export async function runContainer(plan: TarballPlan, tarball: string, extra: readonly string[] = []): Promise<number> {
  const init = containerInit(plan.format);
  const image = `localhost/nixos-generate-run:${plan.format}-${process.pid}`;
  const imported = await podman(['import', '--quiet', tarball, image], 'quiet');
  if (imported !== 0) throw new ImageError('run.import', `Cannot start the container: podman import "${tarball}" exited with ${imported}`);
  try {
    const terminal = process.stdin.isTTY ? ['--interactive', '--tty'] : [];
    return await podman(['run', '--rm', ...terminal, ...extra, image, init], 'inherit');
  } finally {
    await podman(['rmi', '--force', image], 'quiet').catch(() => 1);
  }
}
