/**
 * The plan of a container tarball for an already-built system (--toplevel): the format's
 * layout (what its nixpkgs module gives make-system-tarball) and file name from the
 * system's nixos-version.
 */
import { UsageError } from '../core/errors.js';
import type { TarballPlan } from '../plan/types.js';
import type { TarballFormatDefinition } from './format.js';
import { toplevelNames } from './toplevel-plan.js';

export function tarballPlanForToplevel(format: TarballFormatDefinition, toplevel: string): TarballPlan {
  if (format.layout === undefined) {
    throw new UsageError('toplevel.needs-configuration', `Cannot build ${format.name} from --toplevel: its contents come from the configuration, not from the built system`, {
      hint: 'build it with -c or --flake',
    });
  }
  return { version: 1, kind: 'tarball', format: format.name, toplevel, tarball: format.layout(toplevel), output: format.output(toplevelNames(toplevel)) };
}
