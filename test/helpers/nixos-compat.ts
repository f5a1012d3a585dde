/**
 * docs/nixos-compat.json, the record of what the Nix layer and the stand-in use from
 * NixOS (per release), and the tables of docs/nixos-compat.md generated from it.
 * `node dist/test/helpers/nixos-compat.js --write` regenerates the tables
 * (scripts/write-nixos-compat); a test keeps them equal.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RELEASES = ['24.11', '25.05', '25.11', 'unstable'] as const;
export type Release = (typeof RELEASES)[number];
/** yes: read in a source of that release; no: absent there; "?": not established. */
export type Presence = 'yes' | 'no' | '?';

export interface CompatEntry {
  /** Option path (`<name>` for attribute names), system.build attribute, pkgs attribute or module path. */
  readonly path: string;
  /** The nixpkgs file that declares or defines it. */
  readonly file: string;
  readonly type?: string;
  readonly default?: string;
  readonly releases: Readonly<Record<Release, Presence>>;
  /** How nix/ or the stand-in uses it, and what changed between releases. */
  readonly notes?: string;
}

export interface CompatSource {
  readonly id: string;
  readonly read: string;
  readonly judgedAs: string;
  readonly how: string;
}

export interface CompatData {
  readonly releases: readonly Release[];
  readonly sources: readonly CompatSource[];
  readonly options: readonly CompatEntry[];
  readonly systemBuild: readonly CompatEntry[];
  readonly pkgs: readonly CompatEntry[];
  readonly modules: readonly CompatEntry[];
  /** What the Nix layer declares itself (its own options and system.build attributes). */
  readonly ours: { readonly options: readonly string[]; readonly systemBuild: readonly string[] };
}

export const REPO = join(fileURLToPath(import.meta.url), '../../../..');
export const COMPAT_JSON = join(REPO, 'docs/nixos-compat.json');
export const COMPAT_MD = join(REPO, 'docs/nixos-compat.md');
const BEGIN = '<!-- generated from nixos-compat.json by scripts/write-nixos-compat: do not edit below -->';
const END = '<!-- end of generated tables -->';

export function readCompat(): CompatData {
  return JSON.parse(readFileSync(COMPAT_JSON, 'utf8')) as CompatData;
}

/** Whether the entry exists in at least one supported release. */
export function supported(entry: CompatEntry): boolean {
  return RELEASES.some((r) => entry.releases[r] === 'yes');
}

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(title: string, entries: readonly CompatEntry[], withType: boolean): string {
  const head = withType
    ? ['| path | file | type | default | 24.11 | 25.05 | 25.11 | unstable | notes |', '|---|---|---|---|---|---|---|---|---|']
    : ['| path | file | 24.11 | 25.05 | 25.11 | unstable | notes |', '|---|---|---|---|---|---|---|'];
  const rows = [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => {
      const releases = RELEASES.map((r) => e.releases[r]).join(' | ');
      return withType
        ? `| \`${cell(e.path)}\` | \`${cell(e.file)}\` | ${cell(e.type)} | ${e.default === undefined ? '' : `\`${cell(e.default)}\``} | ${releases} | ${cell(e.notes)} |`
        : `| \`${cell(e.path)}\` | \`${cell(e.file)}\` | ${releases} | ${cell(e.notes)} |`;
    });
  return [`### ${title}`, '', ...head, ...rows, ''].join('\n');
}

export function renderTables(data: CompatData): string {
  const sources = [
    '### Sources',
    '',
    '| id | read | judged as | how |',
    '|---|---|---|---|',
    ...data.sources.map((s) => `| ${cell(s.id)} | ${cell(s.read)} | ${cell(s.judgedAs)} | ${cell(s.how)} |`),
    '',
  ].join('\n');
  return [
    BEGIN,
    '',
    sources,
    table('NixOS options', data.options, true),
    table('`config.system.build` attributes', data.systemBuild, false),
    table('`pkgs` attributes', data.pkgs, false),
    table('Module paths (under `nixos/modules`, as `modulesPath`)', data.modules, false),
    '### Declared by nix/ itself',
    '',
    `Options: ${data.ours.options.map((o) => `\`${o}\``).join(', ')}. \`system.build\` attributes: ${data.ours.systemBuild.map((o) => `\`${o}\``).join(', ')}.`,
    '',
    END,
  ].join('\n');
}

/** docs/nixos-compat.md with its generated part replaced by `tables`. */
export function withTables(markdown: string, tables: string): string {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${COMPAT_MD} lacks the generated-tables markers`);
  return markdown.slice(0, start) + tables + markdown.slice(end + END.length);
}

if (process.argv[2] === '--write') {
  const markdown = readFileSync(COMPAT_MD, 'utf8');
  writeFileSync(COMPAT_MD, withTables(markdown, renderTables(readCompat())));
}
