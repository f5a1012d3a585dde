/**
 * The plan for an already-built system (--toplevel): the format's defaults, the
 * bootloader found in the system's own closure, and output names from the system's
 * nixos-version (a toplevel built without the format module carries no format tags).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBootspec } from '../boot/bootspec.js';
import type { SystemClosure } from '../nix/root-tree.js';
import type { ImagePlan } from '../plan/types.js';
import { detectBootloader, type BootloaderName } from './detect-bootloader.js';
import { defaultPlan, type FormatDefinition, type OutputNames } from './format.js';

/** The system's nixos-version (system.nixos.label), or undefined when it has none. */
export function nixosVersion(toplevel: string): string | undefined {
  try {
    return readFileSync(join(toplevel, 'nixos-version'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The platform a system is built for: its toplevel's `system` file (containers may have no bootspec), else the bootspec's. */
export function toplevelSystem(toplevel: string): string {
  try {
    const system = readFileSync(join(toplevel, 'system'), 'utf8').trim();
    if (system !== '') return system;
  } catch {
    // an older toplevel: the bootspec names it
  }
  return readBootspec(toplevel).system;
}

export function toplevelNames(toplevel: string): OutputNames {
  return { label: nixosVersion(toplevel) ?? 'unknown', system: toplevelSystem(toplevel) };
}

export function planForToplevel(
  format: FormatDefinition,
  closure: SystemClosure,
  options: { bootloader?: BootloaderName | undefined; diskSize?: number | 'auto' | undefined } = {},
): ImagePlan {
  return defaultPlan(format, {
    toplevel: closure.toplevel,
    bootloader: detectBootloader(closure, format.grub, options.bootloader),
    diskSize: options.diskSize ?? 'auto',
    names: toplevelNames(closure.toplevel),
  });
}
