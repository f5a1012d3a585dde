/**
 * generic-extlinux-compatible as NixOS's extlinux-conf-builder.sh leaves /boot when it
 * runs for an image (nixpkgs 25.05): extlinux/extlinux.conf, and in nixos/ copies of the
 * kernel, the initrd and the device trees, each named after its store path with "/"
 * turned into "-". U-Boot's distro boot finds extlinux.conf on the bootable partition.
 *
 * The builder lists only the default entry in an image (it reads older generations from
 * /nix/var/nix/profiles, which an image does not have yet); specialisations get the entries
 * it writes for them once the system is generation 1: "nixos-1-<name>".
 */
import { existsSync, realpathSync } from 'node:fs';
import { ImageError } from '../core/errors.js';
import { dir, fileFromBytes, scanHostTree, type DirNode, type FileNode } from '../fs/tree.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import type { ExtlinuxPlan } from '../plan/types.js';
import { bootFileRole, commandLine, storeFileName, type BootEntry, type Bootspec } from './bootspec.js';
import { espMeta, hostFile, put } from './esp-tree.js';

/** The 60 dashes of the builder's MENU TITLE. */
const MENU_TITLE = `MENU TITLE ${'-'.repeat(60)}`;

/** The builder's TIMEOUT (tenths of a second): null waits (0), 0 boots at once (1, and no menu title). */
function timeoutLines(timeout: number | null): string[] {
  if (timeout === null) return ['TIMEOUT 0', MENU_TITLE];
  if (timeout === 0) return ['TIMEOUT 1'];
  return [`TIMEOUT ${timeout * 10}`, MENU_TITLE];
}

/** The store directory an entry's toplevel links as dtbs (hardware.deviceTree.package), if any. */
function deviceTrees(entry: BootEntry, scope: ClosureScope): string | undefined {
  const link = `${entry.toplevel}/dtbs`;
  if (!existsSync(link)) return undefined;
  const target = realpathSync(link);
  scope.require(target, `the device trees of "${entry.toplevel}"`);
  return target;
}

function entryLines(entry: BootEntry, tag: string, menuLabel: string, plan: ExtlinuxPlan, dtbs: string | undefined): string[] {
  const lines = [
    '',
    `LABEL nixos-${tag}`,
    `  MENU LABEL ${menuLabel}`,
    `  LINUX ../nixos/${storeFileName(entry.kernel)}`,
    ...(entry.initrd === undefined ? [] : [`  INITRD ../nixos/${storeFileName(entry.initrd)}`]),
    `  APPEND ${commandLine(entry)}`,
  ];
  if (!plan.useGenerationDeviceTree) return lines;
  if (dtbs !== undefined) {
    lines.push(plan.deviceTreeName === null ? `  FDTDIR ../nixos/${storeFileName(dtbs)}` : `  FDT ../nixos/${storeFileName(dtbs)}/${plan.deviceTreeName}`);
  } else if (plan.deviceTreeName !== null) {
    throw new ImageError('extlinux.no-dtbs', `Cannot write extlinux.conf: hardware.deviceTree.name is "${plan.deviceTreeName}" but "${entry.toplevel}" has no dtbs`, {
      hint: 'enable hardware.deviceTree with a package, or unset hardware.deviceTree.name',
    });
  }
  return lines;
}

/** extlinux.conf for the bootspec's generation. */
export function extlinuxConfig(bootspec: Bootspec, plan: ExtlinuxPlan, dtbsOf: (entry: BootEntry) => string | undefined = () => undefined): string {
  const lines = [
    '# Generated file, all changes will be lost on nixos-rebuild!',
    '',
    '# Change this to e.g. nixos-42 to temporarily boot to an older configuration.',
    'DEFAULT nixos-default',
    '',
    ...timeoutLines(plan.timeout),
    ...entryLines(bootspec, 'default', 'NixOS - Default', plan, dtbsOf(bootspec)),
  ];
  for (const [name, entry] of bootspec.specialisations) {
    lines.push(...entryLines(entry, `1-${name}`, `NixOS - Configuration 1-${name} (1970-01-01 00:00 - ${entry.label})`, plan, dtbsOf(entry)));
  }
  return `${lines.join('\n')}\n`;
}

/** The /boot directory: extlinux/extlinux.conf and nixos/ with every entry's boot files. */
export function extlinuxTree(plan: ExtlinuxPlan, bootspec: Bootspec, scope: ClosureScope, epoch: number): DirNode {
  const tree = dir(espMeta(epoch, true));
  const entries = [bootspec, ...bootspec.specialisations.values()];
  const dtbs = new Map(entries.map((entry) => [entry, plan.useGenerationDeviceTree ? deviceTrees(entry, scope) : undefined]));
  // The builder copies with cp, so the copies keep the store's read-only modes.
  const copy = (path: string, role: string): FileNode => ({ ...hostFile(scope, path, role, epoch), permissions: 0o444 });
  for (const entry of entries) {
    put(tree, `nixos/${storeFileName(entry.kernel)}`, copy(entry.kernel, bootFileRole('kernel', entry)), epoch);
    if (entry.initrd !== undefined) put(tree, `nixos/${storeFileName(entry.initrd)}`, copy(entry.initrd, bootFileRole('initrd', entry)), epoch);
    const trees = dtbs.get(entry);
    if (trees !== undefined) {
      (tree.entries.get('nixos') as DirNode).entries.set(storeFileName(trees), scanHostTree(trees, { maxTime: epoch, uid: 0, gid: 0 }));
    }
  }
  put(tree, 'extlinux/extlinux.conf', fileFromBytes(espMeta(epoch), extlinuxConfig(bootspec, plan, (entry) => dtbs.get(entry))), epoch);
  return tree;
}
