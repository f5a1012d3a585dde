/**
 * Evaluates a configuration with a format module and builds the system with Nix,
 * through nix/eval.nix. Only the image plan (and with it the toplevel and the
 * bootloader package it names) is built; the image never is.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageError } from '../core/errors.js';
import { parsePlanJson, type AnyImagePlan } from '../plan/index.js';
import { runNix } from './run.js';

/** The nix/ directory shipped with the package. */
export const NIX_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../nix');

export interface NixSettings {
  /** -I KEY=VALUE entries. */
  readonly searchPath: readonly string[];
  /** --option NAME VALUE pairs. */
  readonly options: readonly (readonly [string, string])[];
  readonly showTrace: boolean;
  readonly cores: number | undefined;
  readonly system: string | undefined;
}

export type ConfigurationSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'flake'; readonly uri: string; readonly attr: string };

export interface EvaluateRequest {
  readonly source: ConfigurationSource;
  readonly formatModule: string;
  readonly settings: NixSettings;
  readonly diskSize: number | 'auto' | undefined;
  readonly specialArgs: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly onLog?: (line: string) => void;
}

function commonArgs(settings: NixSettings): string[] {
  const args: string[] = [];
  for (const entry of settings.searchPath) args.push('-I', entry);
  for (const [name, value] of settings.options) args.push('--option', name, value);
  if (settings.showTrace) args.push('--show-trace');
  if (settings.cores !== undefined) args.push('--cores', String(settings.cores));
  return args;
}

/** Splits "path#attr"; the attribute defaults to the host name, as nixos-generators does. */
export function parseFlakeReference(reference: string): { uri: string; attr: string } {
  const hash = reference.indexOf('#');
  if (hash < 0) return { uri: reference, attr: hostname() };
  const attr = reference.slice(hash + 1);
  return { uri: reference.slice(0, hash), attr: attr === '' ? hostname() : attr };
}

/** Resolves a flake reference to its locked URL (`nix flake metadata`), as nixos-generators does. */
async function flakeUrl(uri: string, request: EvaluateRequest): Promise<string> {
  const { stdout } = await runNix('nix', [
    '--extra-experimental-features', 'nix-command flakes',
    'flake', 'metadata', '--json', ...commonArgs(request.settings), '--', uri,
  ], { action: `read the flake "${uri}"`, ...(request.signal === undefined ? {} : { signal: request.signal }) });
  const url = (JSON.parse(stdout) as { url?: unknown }).url;
  return typeof url === 'string' ? url : uri;
}

/** The marker nix/lib/image-plan.nix puts before a setting the format cannot honour. */
const REFUSAL = 'nixos-generate-refusal: ';

/** A format module's refusal, as one line without Nix's wrapping (nothing was built). */
function refusalOf(error: unknown): ImageError | undefined {
  if (!(error instanceof ImageError) || !error.message.includes(REFUSAL)) return undefined;
  const text = error.message.slice(error.message.indexOf(REFUSAL) + REFUSAL.length);
  return new ImageError('config.unsupported', `Cannot build the image: ${text}`, { details: error.details });
}

export async function buildPlanWithNix(request: EvaluateRequest): Promise<AnyImagePlan> {
  const args = [join(NIX_DIR, 'eval.nix'), '--no-out-link', '-A', 'plan', '--argstr', 'formatModule', request.formatModule];
  if (request.source.kind === 'file') {
    args.push('--arg', 'configuration', request.source.path);
  } else {
    args.push(
      '--extra-experimental-features', 'nix-command flakes',
      '--argstr', 'flakeUri', await flakeUrl(request.source.uri, request),
      '--argstr', 'flakeAttr', request.source.attr,
    );
  }
  if (request.settings.system !== undefined) args.push('--argstr', 'system', request.settings.system);
  if (request.diskSize !== undefined) {
    if (request.diskSize === 'auto') args.push('--argstr', 'diskSize', 'auto');
    else args.push('--arg', 'diskSize', String(request.diskSize));
  }
  if (Object.keys(request.specialArgs).length > 0) args.push('--argstr', 'specialArgsJSON', JSON.stringify(request.specialArgs));
  args.push(...commonArgs(request.settings));
  let stdout: string;
  try {
    ({ stdout } = await runNix('nix-build', args, {
      action: 'evaluate and build the system',
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      ...(request.onLog === undefined ? {} : { onLog: request.onLog }),
    }));
  } catch (error) {
    throw refusalOf(error) ?? error;
  }
  const planPath = stdout.trim().split('\n').at(-1) ?? '';
  return parsePlanJson(readFileSync(planPath, 'utf8'), planPath);
}
