/**
 * The Nix layer and the stand-in use only what real NixOS has: every option path,
 * system.build attribute, pkgs attribute and module path that nix/ reads, sets or
 * imports, and every option the stand-in declares, is listed in docs/nixos-compat.json
 * for at least one supported release; every stand-in module names the nixpkgs file it
 * imitates; docs/nixos-compat.md's tables are generated from the data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { COMPAT_MD, readCompat, renderTables, supported, withTables, type CompatEntry } from '../helpers/nixos-compat.js';
import { EXAMPLE_NIXPKGS, REPO } from '../helpers/example.js';
import { runOk } from '../helpers/run.js';

const data = readCompat();
const NIX_DIR = join(REPO, 'nix');

function nixFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return nixFiles(path);
    return name.endsWith('.nix') ? [path] : [];
  });
}

/** Nix source without comments, so that prose does not count as use. */
function code(path: string): string {
  return readFileSync(path, 'utf8').replace(/(^|[^'"$])#[^\n]*/g, '$1');
}

/** What the module system adds to an option in `options` (not part of its path). */
const OPTION_ATTRIBUTES = new Set(['description', 'highestPrio', 'isDefined', 'value', 'definitions', 'definitionsWithLocations', 'files', 'type', 'default']);

/** `fileSystems."/".device` -> `fileSystems.<name>.device`. */
function normalize(path: string): string {
  return path.replace(/"[^"]*"/g, '<name>').replace(/\$\{[^}]*\}/g, '<name>');
}

/** `options.a.b.isDefined` -> `a.b`. */
function optionOf(path: string): string {
  const parts = path.split('.');
  while (parts.length > 1 && OPTION_ATTRIBUTES.has(parts.at(-1)!)) parts.pop();
  return parts.join('.');
}

const ATTR = String.raw`(?:[A-Za-z_][\w'-]*|"[^"]*")`;
const DOTTED = String.raw`${ATTR}(?:\.${ATTR})*`;

/** Every `config.a.b`, `options.a.b`, `pkgs.a.b` and list-form option path in nix/. */
function usesIn(text: string): { config: string[]; options: string[]; pkgs: string[]; modules: string[] } {
  const all = (re: RegExp): string[] => [...text.matchAll(re)].map((m) => normalize(m[1]!));
  const listPaths = [...text.matchAll(/optionOr options config \[([^\]]*)\]/g)].map((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!).join('.'));
  return {
    config: [...all(new RegExp(`(?<![\\w.\\/-])config\\.(${DOTTED})`, 'g')), ...listPaths],
    options: [...all(new RegExp(`(?<![\\w.\\/-])options\\.(${DOTTED})`, 'g')).map(optionOf), ...listPaths],
    pkgs: all(new RegExp(`(?<![\\w.\\/-])(?:pkgs|grubPkgs)\\.(${DOTTED})`, 'g')),
    modules: [
      ...[...text.matchAll(/upstream = "([^"]+)"/g)].map((m) => m[1]!),
      ...[...text.matchAll(/\$\{toString modulesPath\}\/([^"$]+)"/g)].map((m) => m[1]!).filter((p) => !p.endsWith('/')),
    ],
  };
}

/** Whether `path` is an entry, an attribute set containing entries, or inside a freeform entry. */
function listed(path: string, entries: readonly CompatEntry[], ours: readonly string[] = []): CompatEntry | 'ours' | 'namespace' | undefined {
  if (ours.some((o) => path === o || path.startsWith(`${o}.`))) return 'ours';
  const exact = entries.find((e) => e.path === path);
  if (exact !== undefined) return exact;
  // A value inside an option whose value is an attribute set (virtualbox.params.usb).
  const parent = entries.find((e) => path.startsWith(`${e.path}.`) && /attrsOf|freeform/.test(e.type ?? ''));
  if (parent !== undefined) return parent;
  return entries.some((e) => e.path.startsWith(`${path}.`)) ? 'namespace' : undefined;
}

function check(kind: string, used: Iterable<string>, entries: readonly CompatEntry[], ours: readonly string[] = []): string[] {
  const problems: string[] = [];
  for (const path of new Set(used)) {
    const found = listed(path, entries, ours);
    if (found === undefined) problems.push(`${kind} ${path} is not in docs/nixos-compat.json`);
    else if (typeof found !== 'string' && !supported(found)) problems.push(`${kind} ${path} is in no supported release`);
  }
  return problems;
}

test('every option, system.build and pkgs attribute and module path nix/ uses is a NixOS one', () => {
  const uses = nixFiles(NIX_DIR).map((file) => ({ file, ...usesIn(code(file)) }));
  const problems: string[] = [];
  for (const use of uses) {
    const where = relative(REPO, use.file);
    const build = use.config.filter((p) => p.startsWith('system.build.')).map((p) => p.split('.')[2]!);
    problems.push(
      ...check('option', use.config.filter((p) => !p.startsWith('system.build.') && p !== 'system.build'), data.options, data.ours.options).map((p) => `${where}: ${p}`),
      ...check('option', use.options, data.options, data.ours.options).map((p) => `${where}: ${p}`),
      ...check('system.build attribute', build, data.systemBuild, data.ours.systemBuild).map((p) => `${where}: ${p}`),
      ...check('pkgs attribute', use.pkgs, data.pkgs).map((p) => `${where}: ${p}`),
      ...check('module', use.modules, data.modules).map((p) => `${where}: ${p}`),
    );
  }
  assert.deepEqual(problems, []);
  // The scan finds what it must: a negative control on a known use.
  assert.ok(uses.some((u) => u.config.includes('boot.loader.grub')), 'the scan sees config.boot.loader.grub');
  assert.ok(uses.some((u) => u.modules.includes('virtualisation/azure-image.nix')), 'the scan sees the azure module');
  assert.deepEqual(check('option', ['boot.loader.grub.package'], data.options), ['option boot.loader.grub.package is not in docs/nixos-compat.json']);
});

/** Every option the stand-in declares, and every system.build attribute it defines, for a format module. */
function standInDeclarations(formatModule: string): { options: string[]; build: string[] } {
  const expression = `
    let
      eval = import ${EXAMPLE_NIXPKGS}/nixos/lib/eval-config.nix {
        modules = [ ${REPO}/example/configuration.nix ${formatModule} ];
      };
      walk = prefix: set:
        builtins.concatMap (name:
          let value = set.\${name}; path = prefix ++ [ name ]; in
          if builtins.isAttrs value && (value._type or null) == "option" then [ (builtins.concatStringsSep "." path) ]
          else if builtins.isAttrs value && !(value ? _type) then walk path value
          else [ ]) (builtins.attrNames set);
    in { options = walk [ ] eval.options; build = builtins.attrNames eval.config.system.build; }`;
  return JSON.parse(runOk('nix-instantiate', ['--eval', '--strict', '--json', '--expr', expression]).stdout) as { options: string[]; build: string[] };
}

test('every option the stand-in declares and every system.build attribute it defines is a NixOS one', () => {
  const problems = new Set<string>();
  // The format modules, and the stand-in's image modules no format imports yet.
  const modules = [
    ...readdirSync(join(NIX_DIR, 'formats')).map((format) => join(NIX_DIR, 'formats', format)),
    join(EXAMPLE_NIXPKGS, 'nixos/modules/installer/cd-dvd/iso-image.nix'),
  ];
  for (const module of modules) {
    const { options, build } = standInDeclarations(module);
    assert.ok(options.includes('boot.loader.timeout') && build.includes('toplevel'), `the walk sees the stand-in's declarations for ${module}`);
    const ownOptions = [...data.ours.options, '_module'];
    for (const p of check('option', options.map(normalize), data.options, ownOptions)) problems.add(p);
    for (const p of check('system.build attribute', build, data.systemBuild, data.ours.systemBuild)) problems.add(p);
  }
  assert.deepEqual([...problems], []);
});

test('every stand-in module names the nixpkgs file it imitates, and that file is a NixOS one', () => {
  const root = join(EXAMPLE_NIXPKGS, 'nixos');
  const problems: string[] = [];
  for (const file of nixFiles(root)) {
    const where = relative(root, file);
    if (where === 'modules/module-list.nix' || where === 'default.nix') continue;
    const header = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('#')).map((l) => l.replace(/^#\s?/, '')).join(' ');
    const named = /Imitates [^]*?`?(nixos\/[\w./-]+\.nix)/.exec(header);
    if (named === null) {
      problems.push(`${where}: the header does not say which nixpkgs file it imitates`);
      continue;
    }
    // As a path under modulesPath: nixos/modules/X is X, nixos/Y is ../Y.
    const path = named[1]!.startsWith('nixos/modules/') ? named[1]!.slice('nixos/modules/'.length) : `../${named[1]!.slice('nixos/'.length)}`;
    const entry = data.modules.find((m) => m.path === path);
    if (entry === undefined) problems.push(`${where}: imitates ${named[1]}, which docs/nixos-compat.json does not list`);
    else if (!supported(entry)) problems.push(`${where}: imitates ${named[1]}, which is in no supported release`);
  }
  assert.deepEqual(problems, []);
});

test('docs/nixos-compat.md carries the tables generated from docs/nixos-compat.json', () => {
  const markdown = readFileSync(COMPAT_MD, 'utf8');
  assert.equal(markdown, withTables(markdown, renderTables(data)), 'run scripts/write-nixos-compat');
});
