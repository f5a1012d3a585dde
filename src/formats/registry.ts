/** The format registry: --list, --help and format validation all come from here. */
import { UsageError } from '../core/errors.js';
import type { FormatDefinition } from './format.js';
import { qcowEfi } from './qcow-efi.js';
import { rawEfi } from './raw-efi.js';

export const FORMATS: readonly FormatDefinition[] = [qcowEfi, rawEfi];

export function formatNames(): string[] {
  return FORMATS.map((f) => f.name).sort();
}

export function findFormat(name: string): FormatDefinition {
  const format = FORMATS.find((f) => f.name === name);
  if (format === undefined) {
    throw new UsageError('format.unknown', `Unknown format "${name}"`, {
      hint: `run "nixos-generate --list" to see the formats (${formatNames().join(', ')})`,
    });
  }
  return format;
}
