/**
 * A closure read from a registration file (closureInfo's `registration`) instead of from
 * Nix: inside a Nix build there is no Nix to ask, and the registration of the build's
 * inputs says which store paths exist there and what each references.
 */
import { readFileSync } from 'node:fs';
import { ImageError } from '../core/errors.js';
import { ClosureScope } from './closure-scope.js';
import { parseRegistration, type PathRegistration } from './registration.js';
import type { SystemClosure } from './root-tree.js';

export interface RegistrationClosures {
  /** The closure of `roots` (default: the toplevel), as an image holds it. */
  closureOf(toplevel: string, roots?: readonly string[]): SystemClosure;
  /** Every path of the registration: what the build may read. */
  readonly scope: ClosureScope;
}

export function registrationClosures(file: string): RegistrationClosures {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ImageError('registration.unreadable', `Cannot read the registration "${file}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'pass closureInfo\'s registration file with --registration',
    });
  }
  const records = parseRegistration(text, file);
  const byPath = new Map(records.map((r) => [r.path, r]));
  return {
    scope: new ClosureScope(byPath.keys()),
    closureOf(toplevel, roots = [toplevel]) {
      const seen = new Map<string, PathRegistration>();
      const pending = [...roots];
      while (pending.length > 0) {
        const path = pending.pop()!;
        if (seen.has(path)) continue;
        const record = byPath.get(path);
        if (record === undefined) {
          throw new ImageError('registration.missing-path', `Cannot find "${path}" in the registration "${file}"`, {
            hint: 'the registration must be of a closure that holds the plan (closureInfo { rootPaths = [ plan ]; })',
          });
        }
        seen.set(path, record);
        pending.push(...record.references);
      }
      return { toplevel, registrations: [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
    },
  };
}
