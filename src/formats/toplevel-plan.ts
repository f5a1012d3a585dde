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

export function toplevelNames(toplevel: string): OutputNames {
  return { label: nixosVersion(toplevel) ?? 'unknown', system: readBootspec(toplevel).system };
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
