/**
 * Reads a system's boot entries from its NixOS bootspec (`boot.json`,
 * org.nixos.bootspec.v1), falling back to the toplevel's `kernel`, `initrd`, `init` and
 * `kernel-params` for systems built before bootspec existed.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { ImageError } from '../core/errors.js';

export interface BootEntry {
  readonly label: string;
  readonly toplevel: string;
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly init: string;
  readonly kernelParams: readonly string[];
  readonly system: string;
}

export interface Bootspec extends BootEntry {
  readonly specialisations: ReadonlyMap<string, BootEntry>;
}

const V1 = 'org.nixos.bootspec.v1';
const SPECIALISATIONS = 'org.nixos.specialisation.v1';

function fail(toplevel: string, message: string): never {
  throw new ImageError('bootspec.invalid', `Cannot read the bootspec of "${toplevel}": ${message}`, {
    hint: 'the toplevel must be a NixOS system (config.system.build.toplevel)',
  });
}

/**
 * The longest kernel command line accepted: far beyond what any kernel takes (2048 bytes
 * on x86, 4096 on most others), short of a line that would swell every boot menu.
 */
export const MAX_COMMAND_LINE = 65536;
/** NixOS's rule for specialisation names (they become file names and menu labels). */
const SPECIALISATION_NAME = /^[A-Za-z0-9_-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * What the boot menus and file names are made from must not carry a line break or another
 * control character (it would start a new line of grub.cfg, extlinux.conf or a loader
 * entry), and the command line must be of a size a kernel takes.
 */
function checkEntry<E extends BootEntry>(entry: E, toplevel: string): E {
  for (const [field, value] of [['label', entry.label], ['toplevel', entry.toplevel], ['kernel', entry.kernel], ['initrd', entry.initrd ?? ''], ['init', entry.init], ['system', entry.system]] as const) {
    if (CONTROL.test(value)) fail(toplevel, `"${field}" holds a control character (${JSON.stringify(value.slice(0, 80))})`);
  }
  for (const param of entry.kernelParams) {
    if (CONTROL.test(param)) fail(toplevel, `a kernel parameter holds a control character (${JSON.stringify(param.slice(0, 80))})`);
  }
  const length = commandLine(entry).length;
  if (length > MAX_COMMAND_LINE) fail(toplevel, `the kernel command line is ${length} bytes, more than ${MAX_COMMAND_LINE} (Linux takes 2048 on x86, 4096 on most other platforms)`);
  return entry;
}

function entryFrom(document: unknown, toplevel: string): BootEntry {
  if (typeof document !== 'object' || document === null || !(V1 in document)) fail(toplevel, `no "${V1}" object`);
  const v1 = (document as Record<string, unknown>)[V1] as Record<string, unknown>;
  const str = (key: string): string => {
    const value = v1[key];
    if (typeof value !== 'string' || value === '') fail(toplevel, `"${key}" must be a non-empty string`);
    return value;
  };
  const params = v1['kernelParams'];
  if (!Array.isArray(params) || !params.every((p) => typeof p === 'string')) fail(toplevel, '"kernelParams" must be a list of strings');
  const initrd = v1['initrd'];
  return checkEntry({
    label: str('label'),
    toplevel: str('toplevel'),
    kernel: str('kernel'),
    initrd: typeof initrd === 'string' ? initrd : undefined,
    init: str('init'),
    kernelParams: params as string[],
    system: str('system'),
  }, toplevel);
}

export function readBootspec(toplevel: string): Bootspec {
  const file = `${toplevel}/boot.json`;
  if (existsSync(file)) {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      fail(toplevel, `boot.json is not JSON (${(error as Error).message})`);
    }
    const main = entryFrom(document, toplevel);
    const specialisations = new Map<string, BootEntry>();
    const specs = (document as Record<string, unknown>)[SPECIALISATIONS];
    if (typeof specs === 'object' && specs !== null) {
      for (const [name, spec] of Object.entries(specs).sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (!SPECIALISATION_NAME.test(name)) fail(toplevel, `the specialisation name ${JSON.stringify(name.slice(0, 80))} is not letters, digits, "_" and "-" (NixOS's rule; it becomes file names and menu labels)`);
        specialisations.set(name, entryFrom(spec, toplevel));
      }
    }
    return { ...main, specialisations };
  }
  const read = (name: string): string => {
    try {
      return readFileSync(`${toplevel}/${name}`, 'utf8').trim();
    } catch {
      fail(toplevel, `it has neither boot.json nor "${name}"`);
    }
  };
  const resolved = (name: string): string => {
    try {
      return realpathSync(`${toplevel}/${name}`);
    } catch {
      fail(toplevel, `it has neither boot.json nor "${name}"`);
    }
  };
  const params = read('kernel-params');
  return checkEntry({
    label: `NixOS ${read('nixos-version')}`,
    toplevel,
    kernel: resolved('kernel'),
    initrd: existsSync(`${toplevel}/initrd`) ? resolved('initrd') : undefined,
    init: `${toplevel}/init`,
    kernelParams: params === '' ? [] : params.split(/\s+/),
    system: read('system'),
    specialisations: new Map(),
  }, toplevel);
}

/** The kernel command line NixOS's bootloaders build: init= first, then the parameters. */
export function commandLine(entry: BootEntry): string {
  return [`init=${entry.init}`, ...entry.kernelParams].join(' ');
}

/** NixOS's name for a copied boot file: "<hash>-<name>-<file>" from /nix/store/<hash>-<name>/<file>. */
export function storeFileName(path: string): string {
  const parts = path.replace(/^\/nix\/store\//, '').split('/');
  return parts.join('-');
}

/** How errors name a boot file of an entry: 'the kernel of the bootspec of "<toplevel>"'. */
export function bootFileRole(file: 'kernel' | 'initrd', entry: BootEntry): string {
  return `the ${file} of the bootspec of "${entry.toplevel}"`;
}
