/**
 * nixos-generate: builds images of a NixOS configuration. Stdout carries exactly one
 * line per image, its path, or with --json one JSON document; everything else (progress,
 * the summary, errors) goes to stderr. Exit status: 0 success, 1 build failure, 2 usage
 * error, 130 interrupted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ImageError, InterruptedError, UsageError } from '../core/errors.js';
import { abortAllOutputs } from '../core/output-file.js';
import { epochFromEnvironment } from '../core/reproducible.js';
import { clearUnitCache, DEFAULT_CACHE_BYTES, UnitCache } from '../core/unit-cache.js';
import { buildImage, type BuiltImageFiles } from '../formats/build.js';
import { bootFirmware } from '../formats/firmware.js';
import { isKexecFormat, isLiveFormat, isSdFormat, isTarballFormat, isVmFormat, type AnyFormatDefinition } from '../formats/format.js';
import { livePlanForToplevel } from '../formats/live-plan.js';
import { planForToplevel, toplevelSystem } from '../formats/toplevel-plan.js';
import { tarballPlanForToplevel } from '../formats/tarball-plan.js';
import { findFormat, formatNames } from '../formats/registry.js';
import { planScope, queryClosure, resolveToplevel } from '../nix/closure.js';
import { buildPlanWithNix, NIX_DIR, parseFlakeReference, type ConfigurationSource } from '../nix/evaluate.js';
import { registrationClosures } from '../nix/registration-closure.js';
import type { SystemClosure } from '../nix/root-tree.js';
import { prepareStoreDatabase } from '../nix/store-db.js';
import { imageRoots, parsePlanJson } from '../plan/index.js';
import { isKexecPlan, isLivePlan, isTarballPlan, isVmPlan, type AnyImagePlan } from '../plan/types.js';
import { runVm } from './run-vm.js';
import { containerInit, runContainer } from './run-container.js';
import { runKexec } from './run-kexec.js';
import { jsonReport } from './json-report.js';
import { parseArguments, usage, type CliOptions } from './options.js';
import { progressDisplay, type ProgressDisplay } from './progress.js';
import { qemuDriveFormat, runQemu } from './run-qemu.js';
import { summaryLines } from './summary.js';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

/** The configuration.nix shipped with the package, used when neither -c nor NIXOS_CONFIG is given. */
export const BUNDLED_CONFIGURATION = resolve(NIX_DIR, '..', 'configuration.nix');

interface Job {
  /** Format name for output directories (the plan's own name for --format-path). */
  readonly label: string;
  readonly definition: AnyFormatDefinition | undefined;
  readonly modulePath: string | undefined;
  /** --plan: the plan, read once. */
  readonly plan?: AnyImagePlan;
}

function jobsFor(options: CliOptions): Job[] {
  // --plan: one image, the plan's format (a custom format's plan has no registry entry).
  if (options.plan !== undefined) {
    const plan = readPlanFile(options.plan);
    return [{ label: plan.format, definition: formatNames().includes(plan.format) ? findFormat(plan.format) : undefined, modulePath: undefined, plan }];
  }
  if (options.formatPath !== undefined) {
    if (options.formats.length > 0) throw new UsageError('cli.conflict', 'Options -f and --format-path cannot be used together', { hint: 'choose one' });
    const path = resolve(options.formatPath);
    if (!existsSync(path)) throw new UsageError('cli.format-path', `Cannot read the format module "${options.formatPath}": no such file`, { hint: 'pass the path of a format .nix file' });
    return [{ label: basename(path, '.nix'), definition: undefined, modulePath: path }];
  }
  const names = options.formats.length > 0 ? options.formats : options.run ? ['vm'] : [];
  if (names.length === 0) throw new UsageError('cli.missing-format', 'Missing format', { hint: `use -f NAME; formats: ${formatNames().join(', ')}` });
  const unique = [...new Set(names)];
  return unique.map((name) => {
    const definition = findFormat(name);
    return { label: name, definition, modulePath: join(NIX_DIR, 'formats', definition.nixModule) };
  });
}

function readPlanFile(path: string): AnyImagePlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError('cli.plan', `Cannot read the plan "${path}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { hint: 'pass the image plan file (config.system.build.imagePlan) with --plan' });
  }
  return parsePlanJson(text, path);
}

function configurationSource(options: CliOptions, env: NodeJS.ProcessEnv): ConfigurationSource {
  if (options.flake !== undefined) return { kind: 'flake', ...parseFlakeReference(options.flake) };
  const given = options.configuration ?? (env['NIXOS_CONFIG'] !== undefined && env['NIXOS_CONFIG'] !== '' ? env['NIXOS_CONFIG'] : undefined);
  const path = resolve(given ?? BUNDLED_CONFIGURATION);
  if (!existsSync(path)) {
    const origin = options.configuration !== undefined ? '-c' : 'NIXOS_CONFIG';
    throw new UsageError('cli.configuration-missing', `Cannot read the configuration "${given}" (from ${origin}): no such file`, {
      hint: 'pass the path of a configuration.nix with -c',
    });
  }
  return { kind: 'file', path };
}

/** `$XDG_CACHE_HOME/nixos-generate` (default `~/.cache`): default images and the unit cache. */
function cacheHome(env: NodeJS.ProcessEnv): string {
  const base = env['XDG_CACHE_HOME'] !== undefined && env['XDG_CACHE_HOME'] !== '' ? env['XDG_CACHE_HOME'] : join(homedir(), '.cache');
  return join(base, 'nixos-generate');
}

function defaultOutputDir(env: NodeJS.ProcessEnv, toplevel: string, label: string): string {
  return join(cacheHome(env), basename(toplevel), label);
}

/** An image written by this run. */
interface BuiltImage {
  readonly files: BuiltImageFiles;
  readonly plan: AnyImagePlan;
  readonly job: Job;
  readonly milliseconds: number;
}

async function generate(jobs: readonly Job[], options: CliOptions, io: CliIo, display: ProgressDisplay, signal: AbortSignal, cache: UnitCache | undefined): Promise<BuiltImage[]> {
  const epoch = epochFromEnvironment(io.env);
  prepareStoreDatabase(); // compiles while Nix evaluates and lists the closure
  const closures = new Map<string, SystemClosure>();
  // With --plan, closures come from the registration (a Nix build has no Nix to ask).
  const fromRegistration = options.registration === undefined ? undefined : registrationClosures(options.registration);
  /** The closure of `roots` (default: the system), as the image holds it. */
  const closureOf = async (toplevel: string, roots: readonly string[] = [toplevel]): Promise<SystemClosure> => {
    const key = [toplevel, ...roots].join(' ');
    let closure = closures.get(key);
    if (closure === undefined) {
      display.step(`reading the closure of ${roots.length === 1 ? roots[0] : `${roots.length} store paths`}`);
      closure = fromRegistration !== undefined ? fromRegistration.closureOf(toplevel, roots) : await queryClosure(toplevel, signal, roots);
      closures.set(key, closure);
    }
    return closure;
  };
  const source = options.toplevel === undefined && options.plan === undefined ? configurationSource(options, io.env) : undefined;
  const toplevel = options.toplevel === undefined ? undefined : resolveToplevel(options.toplevel);

  const built: BuiltImage[] = [];
  for (const job of jobs) {
    const started = performance.now();
    let plan: AnyImagePlan;
    if (job.plan !== undefined) {
      plan = job.plan;
    } else if (toplevel !== undefined) {
      const definition = job.definition!;
      if (isKexecFormat(definition)) {
        throw new UsageError('toplevel.needs-configuration', `Cannot build ${definition.name} from --toplevel: its kexec script needs kexec-tools and cpio, which a built system does not carry`, {
          hint: 'build it with -c or --flake',
        });
      }
      if (isSdFormat(definition)) {
        throw new UsageError('toplevel.needs-configuration', `Cannot build ${definition.name} from --toplevel: its FIRMWARE partition comes from sdImage.populateFirmwareCommands in the configuration`, {
          hint: 'build it with -c or --flake',
        });
      }
      if (isVmFormat(definition)) {
        throw new UsageError('toplevel.needs-configuration', `Cannot build ${definition.name} from --toplevel: what its runner starts (the 9p store, the disk's filesystems, the consoles) comes from virtualisation/qemu-vm.nix in the configuration`, {
          hint: 'build it with -c or --flake',
        });
      }
      const closure = await closureOf(toplevel);
      plan = isLiveFormat(definition)
        ? livePlanForToplevel(definition, closure)
        : isTarballFormat(definition)
          ? tarballPlanForToplevel(definition, toplevel)
          : planForToplevel(definition, closure, { bootloader: options.bootloader, diskSize: options.diskSize });
    } else {
      display.step(`evaluating and building the system for ${job.label} with Nix`);
      plan = await buildPlanWithNix({
        source: source!,
        formatModule: job.modulePath!,
        settings: {
          searchPath: options.searchPath,
          options: options.nixOptions,
          showTrace: options.showTrace,
          cores: options.cores,
          system: options.system,
        },
        diskSize: options.diskSize,
        specialArgs: options.specialArgs,
        signal,
      });
    }
    const outputDir = options.outLink === undefined
      ? defaultOutputDir(io.env, plan.toplevel, job.label)
      : jobs.length === 1 ? resolve(options.outLink) : join(resolve(options.outLink), job.label);
    const closure = await closureOf(plan.toplevel, imageRoots(plan));
    const scriptInputsClosure = isKexecPlan(plan) ? await closureOf(plan.toplevel, plan.kexec.scriptInputs) : undefined;
    const scope = fromRegistration !== undefined ? fromRegistration.scope : await planScope(plan, closure, signal);
    display.step(`building ${plan.format} from ${plan.toplevel}`);
    const files = await buildImage({
      plan,
      closure,
      ...(scriptInputsClosure === undefined ? {} : { scriptInputsClosure }),
      scope,
      outputDir,
      epoch,
      control: { signal, onProgress: (e) => display.onProgress(e) },
      cache,
    });
    display.finish();
    // With --json the paths are in the document, printed once every image is built.
    if (!options.json) io.stdout.write(`${files.image.path}\n`);
    built.push({ files, plan, job, milliseconds: performance.now() - started });
  }
  return built;
}

/** Boots the first image built, for --run. */
function runImage(image: BuiltImage, env: NodeJS.ProcessEnv, extra: readonly string[]): Promise<number> {
  const { plan, job } = image;
  if (isTarballPlan(plan)) return runContainer(plan, image.files.image.path, extra);
  // A kexec image boots as a kexec would: its kernel, initrd and command line.
  if (isKexecPlan(plan)) return runKexec(plan, image.files.image.path, env, extra);
  // A vm format starts through its own runner, in this directory, as nixos-generators does.
  if (isVmPlan(plan)) return runVm(image.files.image.path, env, extra);
  const drive = isLivePlan(plan) ? (plan.output.compression === 'none' ? 'cdrom' : undefined) : qemuDriveFormat(plan.output);
  const firmware = bootFirmware(plan, job.definition);
  if (drive === undefined || firmware === 'none') {
    throw new UsageError('cli.run', `Option --run cannot boot ${plan.format}: QEMU does not open ${plan.output.container} images with ${plan.output.compression} compression directly`);
  }
  return runQemu(image.files.image.path, drive, firmware, env, extra, toplevelSystem(plan.toplevel));
}

/** --run needs a format QEMU can boot directly; say so before building anything. */
function checkRunnable(jobs: readonly Job[]): void {
  for (const job of jobs) {
    const definition = job.definition;
    if (definition === undefined) continue;
    if (isLiveFormat(definition)) continue; // a live ISO boots as a CD
    if (isTarballFormat(definition)) {
      containerInit(definition.name); // refuses a tarball that is not a root filesystem
      continue;
    }
    if (isKexecFormat(definition)) continue; // booted from its kernel and initrd
    if (isVmFormat(definition)) continue; // started by its runner
    if (isSdFormat(definition)) continue; // booted by U-Boot when uncompressed (sdImage.compressImage = false), checked once built
    const output = definition.output({ label: 'x', system: 'x' }, 'auto');
    if (qemuDriveFormat(output) === undefined || definition.firmware === 'none') {
      throw new UsageError('cli.run', `Option --run cannot boot ${definition.name}: QEMU does not open ${output.compression === 'none' ? output.container : `${output.compression}-compressed`} images directly`, {
        hint: 'use --run with vm, vm-nogui, vm-bootloader, iso, raw, raw-efi, qcow, qcow-efi, amazon, azure, hyperv, vmware, cloudstack, kubevirt, openstack, kexec or a container tarball',
      });
    }
  }
}

/** What the cache gave this run, for stderr: store paths placed whole (when any were looked up), units reused. */
function reuseLine(cache: UnitCache): string {
  const { paths, units } = cache.reuse();
  const unitPart = `${units.hits} of ${units.total} compressed units reused`;
  return paths.total === 0 ? unitPart : `${paths.placed} of ${paths.total} store paths placed whole, ${unitPart}`;
}

function clearCache(directory: string): void {
  try {
    clearUnitCache(directory);
  } catch (error) {
    throw new ImageError('cache.clear', `Cannot clear the cache "${directory}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'check the directory\'s permissions, or remove it by hand',
    });
  }
}

function report(io: CliIo, error: unknown): number {
  if (error instanceof ImageError) {
    io.stderr.write(`nixos-generate: error: ${error.oneLine()}\n`);
    if (error.details !== undefined) io.stderr.write(`${error.details.replace(/^/gm, '  ')}\n`);
    return error instanceof InterruptedError ? 130 : error.exitCode;
  }
  if ((error as Error | undefined)?.name === 'AbortError') {
    io.stderr.write('nixos-generate: error: Build interrupted by SIGINT; no partial output was left at the output path\n');
    return 130;
  }
  io.stderr.write(`nixos-generate: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArguments(argv);
  } catch (error) {
    return report(io, error);
  }
  if (options.help) {
    io.stdout.write(usage());
    return 0;
  }
  if (options.list) {
    io.stdout.write(`${formatNames().join('\n')}\n`);
    return 0;
  }
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      abortAllOutputs();
      process.exit(130);
    }
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const display = progressDisplay(io.stderr, io.env);
  let cache: UnitCache | undefined;
  try {
    const cacheDirectory = resolve(options.cache ?? join(cacheHome(io.env), 'unit-cache'));
    if (options.cacheClear) {
      clearCache(cacheDirectory);
      if (options.formats.length === 0 && options.formatPath === undefined && options.plan === undefined && !options.run) return 0;
    }
    const jobs = jobsFor(options);
    if (options.run) checkRunnable(jobs);
    if (options.cache !== undefined) {
      cache = new UnitCache({ directory: cacheDirectory, maxBytes: options.cacheSize ?? DEFAULT_CACHE_BYTES, warn: (line) => io.stderr.write(`${line}\n`) });
    }
    const built = await generate(jobs, options, io, display, controller.signal, cache);
    if (cache !== undefined) {
      io.stderr.write(`nixos-generate: cache: ${reuseLine(cache)} from ${cache.directory}\n`);
    }
    io.stderr.write(summaryLines(built.map((b) => ({ label: b.job.label, image: b.files.image, milliseconds: b.milliseconds }))));
    if (options.json) {
      const report = jsonReport(built.map((b) => ({ plan: b.plan, definition: b.job.definition, files: b.files })));
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    }
    if (options.run) {
      process.off('SIGINT', onSignal);
      return await runImage(built[0]!, io.env, options.qemuArguments);
    }
    return 0;
  } catch (error) {
    display.finish();
    abortAllOutputs();
    if (controller.signal.aborted && !(error instanceof InterruptedError)) return report(io, new InterruptedError(String(controller.signal.reason)));
    return report(io, error);
  } finally {
    cache?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
