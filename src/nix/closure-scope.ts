/**
 * The only host files an image may take bytes from: files inside the store paths of the
 * system's closure (and of the bootloader packages the plan names, which Nix built for
 * it). A bootspec or a plan that names anything else (`/etc/shadow`, a symlink out of the
 * store, a store path the system does not reference) is refused before anything is read.
 */
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { ImageError } from '../core/errors.js';
import { STORE_DIR, type SystemClosure } from './root-tree.js';

/** The store path a resolved path lies in ("/nix/store/<hash>-<name>"), or undefined. */
export function storePathOf(path: string): string | undefined {
  if (!path.startsWith(`${STORE_DIR}/`)) return undefined;
  const name = path.slice(STORE_DIR.length + 1).split('/')[0]!;
  return name === '' || name === '.' || name === '..' ? undefined : `${STORE_DIR}/${name}`;
}

export class ClosureScope {
  /** Store paths (or, in tests, any directories) whose insides may enter an image. */
  private readonly paths: ReadonlySet<string>;

  constructor(storePaths: Iterable<string>) {
    this.paths = new Set(storePaths);
  }

  /** Whether `path`, with every symlink resolved, lies inside one of the scope's paths. */
  contains(path: string): boolean {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return false;
    }
    for (let at = real; at !== '/' && at !== ''; at = dirname(at)) {
      if (this.paths.has(at)) return true;
    }
    return false;
  }

  /**
   * Returns `path` when it lies inside the scope; otherwise throws one line naming what
   * asked for it (`role`, e.g. 'the kernel of the bootspec of "/nix/store/…"').
   */
  require(path: string, role: string): string {
    if (this.contains(path)) return path;
    throw new ImageError('input.outside-closure', `Cannot put ${role} into the image: "${path}" is not inside the system's closure`, {
      hint: 'an image holds only files of the system\'s store paths; rebuild the system so that it references that file',
    });
  }
}

/** The scope of a system's own closure. */
export function closureScope(closure: SystemClosure, extraStorePaths: Iterable<string> = []): ClosureScope {
  return new ClosureScope([...closure.registrations.map((r) => r.path), ...extraStorePaths]);
}
