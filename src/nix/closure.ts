/** Asks Nix for a system's closure and its registration (NAR hashes, sizes, references). */
import { realpathSync } from 'node:fs';
import { ImageError } from '../core/errors.js';
import { planPartitions } from '../plan/index.js';
import { isKexecPlan, isLivePlan, isTarballPlan, isVmPlan, type AnyImagePlan, type ImagePlan } from '../plan/types.js';
import { closureScope, storePathOf, type ClosureScope } from './closure-scope.js';
import { parseRegistration } from './registration.js';
import type { SystemClosure } from './root-tree.js';
import { runNix } from './run.js';

const STORE_PATH = /^\/nix\/store\/[0-9a-z]{32}-[^/]+$/;
/** Paths per `--dump-db` call, to stay far below the argument-size limit. */
const CHUNK = 500;

/** Resolves a --toplevel argument (often a result symlink) to its store path. */
export function resolveToplevel(path: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw new ImageError('toplevel.missing', `Cannot read the toplevel "${path}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'pass the path of a built NixOS system (config.system.build.toplevel)',
      exitCode: 2,
    });
  }
  if (!STORE_PATH.test(real)) {
    throw new ImageError('toplevel.not-store-path', `Cannot use "${path}" as the toplevel: it resolves to "${real}", which is not a Nix store path`, {
      hint: 'pass the path of a built NixOS system (config.system.build.toplevel)',
      exitCode: 2,
    });
  }
  return real;
}

/** The closure of `roots` (by default the system itself) with its registration; no roots: an empty closure. */
export async function queryClosure(toplevel: string, signal?: AbortSignal, roots: readonly string[] = [toplevel]): Promise<SystemClosure> {
  const opts = signal === undefined ? {} : { signal };
  if (roots.length === 0) return { toplevel, registrations: [] };
  const { stdout } = await runNix('nix-store', ['--query', '--requisites', ...roots], {
    action: `list the closure of "${roots.join('", "')}"`,
    ...opts,
  });
  const paths = stdout.split('\n').filter((p) => p !== '').sort();
  let text = '';
  for (let i = 0; i < paths.length; i += CHUNK) {
    const part = await runNix('nix-store', ['--dump-db', ...paths.slice(i, i + CHUNK)], {
      action: `read the registration of "${toplevel}"'s closure`,
      ...opts,
    });
    text += part.stdout.endsWith('\n') || part.stdout === '' ? part.stdout : `${part.stdout}\n`;
  }
  return { toplevel, registrations: parseRegistration(text, 'nix-store --dump-db') };
}

/** The store directories whose files a disk plan's firmware partitions hold. */
function planFirmwareSources(plan: ImagePlan): string[] {
  return planPartitions(plan).flatMap((p) => (p.filesystem?.type === 'vfat' && p.filesystem.source !== undefined ? [p.filesystem.source] : []));
}

/** The host paths a plan's bootloader (a live plan's ISO contents, a tarball's contents) take files from. */
function bootloaderSources(plan: AnyImagePlan): string[] {
  // The kexec image's kernel and initrd are the system's own.
  if (isKexecPlan(plan)) return [];
  if (isTarballPlan(plan)) return plan.tarball.contents.map((c) => (c.source.endsWith('/.') ? c.source.slice(0, -2) : c.source));
  if (isLivePlan(plan)) {
    const { live } = plan;
    const refind = live.efi?.refind ?? null;
    const efi = live.efi === null ? [] : [live.efi.grub, ...(refind === null ? [] : [refind])];
    return [...live.contents.map((c) => c.source), ...(live.bios === null ? [] : [live.bios.syslinux]), ...efi];
  }
  // A vm runner's kernel and initrd are the system's own; its disk's boot loader is not.
  if (isVmPlan(plan)) return plan.disk === null ? (plan.vm.bios === null ? [] : [plan.vm.bios]) : bootloaderSources(plan.disk);
  const bootloader = plan.bootloader;
  // An sd-card's FIRMWARE partition holds the files of a store directory Nix built for the plan.
  const firmware = planFirmwareSources(plan);
  if (bootloader.type === 'systemd-boot') return [bootloader.efiBinary, ...firmware];
  if (bootloader.type === 'extlinux') return firmware;
  return [bootloader.bios?.package, bootloader.efi?.package, ...firmware].filter((p): p is string => p !== undefined);
}

/**
 * Where a plan's boot files may come from: the system's closure, and the closure of
 * every bootloader (or ISO contents) store path the plan names that the system does not
 * reference (Nix built it for the plan). Paths outside the store stay out; the writers refuse them.
 */
export async function planScope(plan: AnyImagePlan, closure: SystemClosure, signal?: AbortSignal): Promise<ClosureScope> {
  const own = closureScope(closure);
  const extra = new Set<string>();
  for (const source of bootloaderSources(plan)) {
    if (own.contains(source)) continue;
    let real: string;
    try {
      real = realpathSync(source);
    } catch {
      continue;
    }
    const storePath = storePathOf(real);
    if (storePath !== undefined && STORE_PATH.test(storePath)) extra.add(storePath);
  }
  if (extra.size === 0) return own;
  const { stdout } = await runNix('nix-store', ['--query', '--requisites', ...extra], {
    action: 'list the closure of the plan\'s bootloader',
    ...(signal === undefined ? {} : { signal }),
  });
  return closureScope(closure, stdout.split('\n').filter((p) => p !== ''));
}
