/**
 * Command-line options: the flags of nixos-generators' `nixos-generate --help`, plus
 * --toplevel, --bootloader, --json and comma-separated formats. Usage errors exit with 2.
 */
import { UsageError } from '../core/errors.js';
import { BOOTLOADER_NAMES, type BootloaderName } from '../formats/detect-bootloader.js';

export interface CliOptions {
  readonly help: boolean;
  readonly list: boolean;
  readonly run: boolean;
  readonly json: boolean;
  readonly configuration: string | undefined;
  readonly flake: string | undefined;
  readonly toplevel: string | undefined;
  readonly formats: readonly string[];
  readonly formatPath: string | undefined;
  readonly bootloader: BootloaderName | undefined;
  readonly outLink: string | undefined;
  readonly showTrace: boolean;
  readonly system: string | undefined;
  readonly cores: number | undefined;
  readonly diskSize: number | 'auto' | undefined;
  readonly searchPath: readonly string[];
  readonly nixOptions: readonly (readonly [string, string])[];
  readonly specialArgs: Readonly<Record<string, string>>;
  /** Everything after "--": extra QEMU arguments for --run. */
  readonly qemuArguments: readonly string[];
  /** --plan and --registration: write the plan's image from a closure registration (inside a Nix build). */
  readonly plan: string | undefined;
  readonly registration: string | undefined;
  /** --cache [DIR]: the unit cache's directory (null: the default one), undefined without --cache. */
  readonly cache: string | null | undefined;
  /** --cache-size: the cache's bound in bytes. */
  readonly cacheSize: number | undefined;
  readonly cacheClear: boolean;
}

interface FlagSpec {
  readonly names: readonly string[];
  readonly values: readonly string[];
  /** A value that may be left out: taken from the next argument unless it starts with "-", or given as --flag=VALUE. */
  readonly optionalValue?: string;
  readonly help: string;
}

/** The flag table: parsing and --help both come from it. */
export const FLAGS: readonly FlagSpec[] = [
  { names: ['--help', '-h'], values: [], help: 'show this help' },
  { names: ['-c', '--configuration'], values: ['PATH'], help: 'the NixOS configuration to build (default: $NIXOS_CONFIG, else the bundled configuration.nix)' },
  { names: ['--flake'], values: ['URI'], help: 'build nixosConfigurations.ATTR of a flake, "path#attr" (attr defaults to the host name)' },
  { names: ['--toplevel'], values: ['PATH'], help: 'pack an already-built system (no evaluation); the plan comes from the format\'s defaults' },
  { names: ['-f', '--format'], values: ['NAME'], help: 'the image format; several formats separated by commas build in one run' },
  { names: ['--format-path'], values: ['PATH'], help: 'a custom format module (it must import nix/lib/image-plan.nix)' },
  { names: ['--list'], values: [], help: 'list the available formats, one per line' },
  { names: ['--run'], values: [], help: 'boot the built image (default format: vm) in QEMU with the serial console on this terminal, or start a container tarball in podman' },
  { names: ['--json'], values: [], help: 'print one JSON document describing the images (path, size, sha256, firmware, ...) on stdout instead of their paths' },
  { names: ['--show-trace'], values: [], help: 'show Nix\'s evaluation trace on errors' },
  { names: ['--system'], values: ['SYSTEM'], help: 'the target system, for example x86_64-linux' },
  { names: ['-o', '--out-link'], values: ['PATH'], help: 'output directory for the image (with several formats, one subdirectory per format)' },
  { names: ['--cores'], values: ['N'], help: 'maximum build parallelism, passed to Nix' },
  { names: ['--option'], values: ['NAME', 'VALUE'], help: 'a Nix setting, passed to Nix commands' },
  { names: ['--special-arg'], values: ['NAME', 'VALUE'], help: 'a string passed to the configuration\'s modules in specialArgs' },
  { names: ['-I'], values: ['KEY=VALUE'], help: 'add a key to the Nix search path (for example nixpkgs=PATH)' },
  { names: ['--disk-size'], values: ['SIZE'], help: 'disk size in MiB, or "auto" (default) to size it from the closure' },
  { names: ['--plan'], values: ['FILE'], help: 'new: write the image a plan describes (config.system.build.imagePlan), with --registration; no evaluation, no Nix (inside a Nix build)' },
  { names: ['--registration'], values: ['FILE'], help: 'with --plan: the closure\'s registration (closureInfo\'s registration file), instead of asking Nix' },
  { names: ['--cache'], values: [], optionalValue: 'DIR', help: 'new: keep compressed units (squashfs blocks and store paths, xz blocks, gzip pieces, zstd frames, VMDK grains) in DIR (default: $XDG_CACHE_HOME/nixos-generate/unit-cache) and reuse them; the image is the same bytes' },
  { names: ['--cache-size'], values: ['SIZE'], help: 'with --cache: the cache\'s bound, least recently used entries removed first (bytes, or a number with K, M, G or T; default 10G)' },
  { names: ['--cache-clear'], values: [], help: 'empty the cache (the default one, or --cache DIR\'s); without a format, that is all' },
  { names: ['--bootloader'], values: ['NAME'], help: `with --toplevel: ${BOOTLOADER_NAMES.join(' or ')} (default: GRUB if the closure has it)` },
];

function suggestion(flag: string): string {
  const names = FLAGS.flatMap((f) => f.names).filter((n) => n.startsWith('--'));
  const close = names.find((n) => n.startsWith(flag.slice(0, 4)) || flag.startsWith(n));
  return close === undefined ? 'run "nixos-generate --help" for the options' : `did you mean ${close}? run "nixos-generate --help" for the options`;
}

function parseDiskSize(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  if (/^[1-9][0-9]*$/.test(value) && Number(value) <= 2 ** 32) return Number(value);
  throw new UsageError('cli.disk-size', `Invalid --disk-size "${value}"`, { hint: 'give a whole number of MiB, or "auto"' });
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A size in bytes: "10737418240", "500M", "10G", "1TiB". */
export function parseCacheSize(value: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value);
  const bytes = match === null ? NaN : Math.floor(Number(match[1]) * SIZE_UNITS[match[2]!.toUpperCase()]!);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new UsageError('cli.cache-size', `Invalid --cache-size "${value}"`, { hint: 'give a size such as 10G, 500M or a number of bytes' });
  }
  return bytes;
}

export function parseArguments(argv: readonly string[]): CliOptions {
  let help = false, list = false, run = false, json = false, showTrace = false;
  let configuration: string | undefined, flake: string | undefined, toplevel: string | undefined;
  let formatPath: string | undefined, outLink: string | undefined, system: string | undefined;
  let cores: number | undefined, diskSize: number | 'auto' | undefined, bootloader: BootloaderName | undefined;
  let plan: string | undefined, registration: string | undefined;
  let cache: string | null | undefined, cacheSize: number | undefined, cacheClear = false;
  const formats: string[] = [];
  const searchPath: string[] = [];
  const nixOptions: [string, string][] = [];
  const specialArgs: Record<string, string> = {};
  let qemuArguments: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      qemuArguments = argv.slice(i + 1);
      break;
    }
    // "-Inixpkgs=..." is accepted like Nix accepts it.
    if (arg.startsWith('-I') && arg.length > 2) {
      searchPath.push(arg.slice(2));
      continue;
    }
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const attached = equals > 0 ? FLAGS.find((f) => f.optionalValue !== undefined && f.names.includes(arg.slice(0, equals))) : undefined;
    const spec = attached ?? FLAGS.find((f) => f.names.includes(arg));
    if (spec === undefined) {
      throw new UsageError('cli.unknown-option', `Unknown option "${arg}"`, { hint: suggestion(arg) });
    }
    const values = spec.values.map((name, k) => {
      const value = argv[i + 1 + k];
      if (value === undefined) {
        throw new UsageError('cli.missing-value', `Option ${arg} needs ${spec.values.join(' ')}`, { hint: `for example: ${arg} ${spec.values.join(' ')}` });
      }
      void name;
      return value;
    });
    i += values.length;
    let optional: string | undefined;
    if (attached !== undefined) optional = arg.slice(equals + 1);
    else if (spec.optionalValue !== undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) optional = argv[++i];
    const [first = '', second = ''] = values;
    switch (spec.names[0]) {
      case '--help': help = true; break;
      case '-c': configuration = first; break;
      case '--flake': flake = first; break;
      case '--toplevel': toplevel = first; break;
      case '-f': formats.push(...first.split(',').map((f) => f.trim()).filter((f) => f !== '')); break;
      case '--format-path': formatPath = first; break;
      case '--list': list = true; break;
      case '--run': run = true; break;
      case '--json': json = true; break;
      case '--show-trace': showTrace = true; break;
      case '--system': system = first; break;
      case '--plan': plan = first; break;
      case '--registration': registration = first; break;
      case '-o': outLink = first; break;
      case '--cores':
        if (!/^[0-9]+$/.test(first)) throw new UsageError('cli.cores', `Invalid --cores "${first}"`, { hint: 'give a whole number (0 means all cores)' });
        cores = Number(first);
        break;
      case '--option': nixOptions.push([first, second]); break;
      case '--special-arg': specialArgs[first] = second; break;
      case '-I': searchPath.push(first); break;
      case '--disk-size': diskSize = parseDiskSize(first); break;
      case '--cache':
        if (optional === '') throw new UsageError('cli.cache', 'Option --cache= needs a directory', { hint: 'give --cache DIR, or --cache alone for the default one' });
        cache = optional ?? null;
        break;
      case '--cache-size': cacheSize = parseCacheSize(first); break;
      case '--cache-clear': cacheClear = true; break;
      case '--bootloader':
        if (!(BOOTLOADER_NAMES as readonly string[]).includes(first)) {
          throw new UsageError('cli.bootloader', `Unknown bootloader "${first}"`, { hint: `use ${BOOTLOADER_NAMES.join(' or ')}` });
        }
        bootloader = first as BootloaderName;
        break;
    }
  }

  const sources = [configuration === undefined ? [] : ['-c'], flake === undefined ? [] : ['--flake'], toplevel === undefined ? [] : ['--toplevel'], plan === undefined ? [] : ['--plan']].flat();
  if ((plan === undefined) !== (registration === undefined)) {
    throw new UsageError('cli.conflict', 'Options --plan and --registration go together', { hint: 'give the plan and the registration of its closure (closureInfo { rootPaths = [ plan ]; })' });
  }
  if (plan !== undefined && (formats.length > 0 || formatPath !== undefined || run)) {
    throw new UsageError('cli.conflict', 'Option --plan cannot be used with -f, --format-path or --run', { hint: 'the plan names its format' });
  }
  if (sources.length > 1) {
    throw new UsageError('cli.conflict', `Options ${sources.join(' and ')} cannot be used together`, { hint: 'choose one source for the system' });
  }
  if (bootloader !== undefined && toplevel === undefined) {
    throw new UsageError('cli.conflict', 'Option --bootloader only applies with --toplevel', { hint: 'with -c or --flake the configuration chooses the bootloader' });
  }
  if (json && run) {
    throw new UsageError('cli.conflict', 'Options --json and --run cannot be used together', { hint: 'the serial console of --run goes to stdout, where the JSON document goes' });
  }
  if (qemuArguments.length > 0 && !run) {
    throw new UsageError('cli.conflict', `Arguments after "--" (${qemuArguments.join(' ')}) are for QEMU and need --run`, { hint: 'add --run, or leave out what follows "--"' });
  }
  if (cacheSize !== undefined && cache === undefined) {
    throw new UsageError('cli.conflict', 'Option --cache-size only applies with --cache', { hint: 'add --cache (or --cache DIR)' });
  }
  if (formatPath !== undefined && toplevel !== undefined) {
    throw new UsageError('cli.conflict', 'Options --format-path and --toplevel cannot be used together', { hint: 'a format module needs an evaluation; use -c or --flake' });
  }
  return {
    help, list, run, json, configuration, flake, toplevel, formats, formatPath, bootloader, outLink, showTrace,
    system, cores, diskSize, searchPath, nixOptions, specialArgs, qemuArguments, plan, registration, cache, cacheSize, cacheClear,
  };
}

export function usage(): string {
  const lines = [
    'Usage: nixos-generate [options] [-- QEMU arguments for --run]', '',
    'Builds NixOS images; prints the path of each image, one per line (or, with --json, one JSON document).',
    'Each image\'s directory gets a SHA256SUMS for "sha256sum -c". Progress and a summary go to stderr.', '',
    'Options:', '',
  ];
  for (const f of FLAGS) {
    const values = [...f.values, ...(f.optionalValue === undefined ? [] : [`[${f.optionalValue}]`])];
    lines.push(`* ${f.names.join(', ')}${values.length > 0 ? ` ${values.join(' ')}` : ''}`);
    lines.push(`    ${f.help}`);
  }
  lines.push('', 'Exit status: 0 success, 1 build failure, 2 usage error.');
  return `${lines.join('\n')}\n`;
}
