/**
 * Builds one image from a plan and the system closure: assembles the disk, writes it in
 * the plan's container (and compression) and the format's side files, each with its
 * SHA-256 (computed while writing where the writer goes in order), then SHA256SUMS, all
 * under temporary names renamed into place when complete.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BlockImage } from '../core/block-image.js';
import { ImageError } from '../core/errors.js';
import { OutputFile } from '../core/output-file.js';
import type { UnitCache } from '../core/unit-cache.js';
import { SHA256SUMS, sha256sumsText } from '../core/sha256sums.js';
import type { RunControl, PhasedControl } from '../core/progress.js';
import { outputFileSink, type ByteSink } from '../core/sink.js';
import { anticipateLoneParts } from '../compress/anticipation.js';
import { CheckedCopyFailed } from '../core/checked-copy.js';
import { listNewStorePaths, recordedStorePaths, recordStorePaths } from '../nix/new-paths.js';
import type { CompressingSink } from '../compress/chunked-sink.js';
import { gzipSink } from '../compress/gzip.js';
import { zstdSink } from '../compress/zstd.js';
import { writeGceTarball } from '../container/gce.js';
import { writeOva } from '../container/ova.js';
import { PROXMOX_DEVICE_NAME } from '../container/proxmox-config.js';
import { writeQcow2 } from '../container/qcow2.js';
import { writeQcow2Stream } from '../container/qcow2-stream.js';
import type { FileIdentity } from '../core/described-spans.js';
import { storeFileIdentity } from '../nix/store-identity.js';
import { writeRaw, writeRawStream } from '../container/raw.js';
import { writeVagrantBox } from '../container/vagrant-box.js';
import { writeVhd } from '../container/vhd.js';
import { writeVhdx } from '../container/vhdx.js';
import { writeVma } from '../container/vma.js';
import { writeVmdk } from '../container/vmdk.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import type { SystemClosure } from '../nix/root-tree.js';
import { isKexecPlan, isLivePlan, isTarballPlan, isVmPlan, type AnyImagePlan, type ImagePlan } from '../plan/types.js';
import { linkVmSystem, writeVmFiles } from './vm-output.js';
import { writeKexecImage } from './kexec-image.js';
import { closureScope } from '../nix/closure-scope.js';
import { writeCompressedLiveIso, writeLiveIso } from './live-image.js';
import { writeSystemTarball } from './system-tarball.js';
import { buildDiskImage, type DiskImage } from './disk-image.js';
import { nixosVersion, toplevelSystem } from './toplevel-plan.js';

export interface BuildImageRequest {
  readonly plan: AnyImagePlan;
  readonly closure: SystemClosure;
  /** A kexec plan's second closure: of the script's inputs (kexec-tools, cpio, the shell). */
  readonly scriptInputsClosure?: SystemClosure;
  /** Directory that receives the image file (created if missing). */
  readonly outputDir: string;
  readonly epoch: number;
  /** Where boot files may come from (default: the closure alone). */
  readonly scope?: ClosureScope;
  readonly control?: RunControl;
  /** --cache: compressed units reused across builds (squashfs blocks and store paths, xz blocks, gzip pieces, zstd frames); never changes the bytes. */
  readonly cache?: UnitCache | undefined;
}

/** Identifiers inside containers (VHD, VMDK, VMA ids) derive from the system and the format. */
function seedOf(plan: ImagePlan): string {
  return `${plan.toplevel}:${plan.format}`;
}

function missing(plan: ImagePlan, field: string): never {
  throw new ImageError('plan.invalid', `Cannot write ${plan.format}: the plan's output has no ${field}`);
}

/** Containers that are byte streams: written to a sink, so they can be compressed on the way. */
async function writeStream(plan: ImagePlan, image: BlockImage, sink: ByteSink, epoch: number, control: PhasedControl, identify: FileIdentity): Promise<void> {
  switch (plan.output.container) {
    case 'raw':
      return writeRawStream(image, sink, control, identify);
    case 'qcow2':
      return writeQcow2Stream(image, sink, { identify }, control);
    case 'vma':
      return writeVma(image, sink, {
        config: plan.output.proxmox?.qemuServerConf ?? missing(plan, 'proxmox.qemuServerConf'),
        deviceName: PROXMOX_DEVICE_NAME,
        seed: seedOf(plan),
        epoch,
      }, control);
    default:
      throw new ImageError('plan.invalid', `Cannot compress the ${plan.output.container} container`);
  }
}

/** The plan's output is a stream written in order (compressed, or a VMA). */
function isStreamOutput(plan: ImagePlan): boolean {
  return plan.output.compression !== 'none' || plan.output.container === 'vma';
}

/**
 * The stream hands its compressor described spans (writeStream: raw and qcow2 pass
 * `identify` on; a VMA interleaves its extent headers with the data), so spans made ahead
 * are found: only then is anything compressed ahead.
 */
function streamDescribesSpans(plan: ImagePlan): boolean {
  return plan.output.container === 'raw' || plan.output.container === 'qcow2';
}

/**
 * The sink a compressed stream output is written through, into `out`: cut where its
 * content says, so that `cache` finds the pieces a change left as they were.
 */
function compressingSinkFor(plan: ImagePlan, out: OutputFile, cache: UnitCache | undefined): CompressingSink | undefined {
  const output = plan.output;
  return output.compression === 'gzip' ? gzipSink(outputFileSink(out), { level: output.compressionLevel ?? 6, boundaries: 'content', cache })
    : output.compression === 'zstd' ? zstdSink(outputFileSink(out), { level: 3, boundaries: 'content', cache })
    : undefined;
}

/**
 * Writes the disk in the plan's container (and compression) into `out`; a compressed
 * stream through `compressor` (compressingSinkFor).
 */
async function writeContainer(plan: ImagePlan, image: BlockImage, out: OutputFile, epoch: number, control: PhasedControl, cache: UnitCache | undefined,
  identify: FileIdentity, compressor: CompressingSink | undefined): Promise<void> {
  const output = plan.output;
  const seed = seedOf(plan);
  if (isStreamOutput(plan)) {
    const sink = compressor ?? outputFileSink(out);
    await writeStream(plan, image, sink, epoch, control, identify);
    // A compressing sink closes its target too.
    await sink.close();
    return;
  }
  const machine = (): NonNullable<typeof output.virtualMachine> => output.virtualMachine ?? missing(plan, 'virtualMachine');
  switch (output.container) {
    case 'raw':
      return writeRaw(image, out, control);
    case 'qcow2':
      return writeQcow2(image, out, {}, control);
    case 'vhd':
      return writeVhd(image, out, { subformat: output.vhd?.subformat ?? missing(plan, 'vhd.subformat'), seed, epoch }, control);
    case 'vhdx':
      return writeVhdx(image, out, { seed }, control);
    case 'vmdk':
      return writeVmdk(image, out, { subformat: output.vmdk?.subformat ?? missing(plan, 'vmdk.subformat'), seed, cache }, control);
    case 'ova':
      return writeOva(image, out, {
        seed, epoch, fileStem: basename(output.fileName).replace(/\.ova$/, ''),
        vmName: machine().name, memoryMiB: machine().memoryMiB, cpus: machine().cpus, cache,
      }, control);
    case 'vagrant-box':
      return writeVagrantBox(image, out, {
        seed, epoch, vmName: machine().name, memoryMiB: machine().memoryMiB, cpus: machine().cpus, cache,
      }, control);
    case 'gce-tar':
      return writeGceTarball(image, out, { epoch, compressionLevel: output.compressionLevel ?? 6, cache }, control);
  }
}

/** nix-support/image-info.json, as nixpkgs' amazon image writes it. */
function amazonImageInfo(plan: ImagePlan, imagePath: string, virtualSize: number, system: string): string {
  const bootMode = plan.bootloader.type === 'grub' && plan.bootloader.bios !== null ? 'legacy-bios' : 'uefi';
  const info = {
    label: nixosVersion(plan.toplevel) ?? '',
    boot_mode: bootMode,
    system,
    logical_bytes: String(virtualSize),
    file: imagePath,
    disks: { root: { logical_bytes: String(virtualSize), file: imagePath } },
  };
  return `${JSON.stringify(info, null, 2)}\n`;
}

/** A file a build wrote, with what SHA256SUMS and --json say about it. */
export interface WrittenFile {
  readonly path: string;
  /** Path relative to the output directory, as SHA256SUMS names it. */
  readonly name: string;
  readonly size: number;
  /** Lower-case hex SHA-256. */
  readonly sha256: string;
}

export interface BuiltImageFiles {
  readonly image: WrittenFile;
  /** Files the format writes next to the image (amazon: nix-support/image-info.json). */
  readonly sideFiles: readonly WrittenFile[];
  /** The SHA256SUMS covering the image and its side files. */
  readonly checksums: string;
  /** The system the bootspec names, for example x86_64-linux. */
  readonly system: string;
}

function makeDirectory(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new ImageError('output.unwritable', `Cannot create the output directory "${path}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'choose another place with -o',
    });
  }
}

function removeStale(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    throw new ImageError('output.rename', `Cannot replace "${path}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'remove what is in the way or choose another place with -o',
    });
  }
}

/**
 * Writes the image, its side files and their SHA256SUMS, each under a temporary name,
 * and renames them into place only when all are complete; on failure none is left.
 */
export async function buildImage(request: BuildImageRequest): Promise<BuiltImageFiles> {
  try {
    return await buildImageOnce(request);
  } catch (error) {
    // Cache entries that failed their check where they were copied into the output: what
    // came after them was placed assuming them, so the image is made again without them
    // (and, should that meet another, without the cache).
    if (!(error instanceof CheckedCopyFailed) || request.cache === undefined) throw error;
    request.cache.discard(error);
    try {
      return await buildImageOnce(request);
    } catch (again) {
      if (!(again instanceof CheckedCopyFailed)) throw again;
      request.cache.discard(again);
      return buildImageOnce({ ...request, cache: undefined });
    }
  }
}

async function buildImageOnce(request: BuildImageRequest): Promise<BuiltImageFiles> {
  const { plan, outputDir, control = {} } = request;
  const imagePath = join(outputDir, plan.output.fileName);
  makeDirectory(dirname(imagePath));
  const outputs: { readonly name: string; readonly out: OutputFile }[] = [];
  const create = (name: string, mode?: number): OutputFile => {
    const out = OutputFile.create(join(outputDir, name), { sha256: true, ...(mode === undefined ? {} : { mode }) });
    outputs.push({ name, out });
    return out;
  };
  try {
    const executable = (isKexecPlan(plan) && plan.output.container === 'kexec-bundle') || isVmPlan(plan);
    const image = create(plan.output.fileName, executable ? 0o755 : undefined);
    const phase = `write ${plan.output.fileName} (${plan.format})`;
    let system: string;
    if (isLivePlan(plan)) {
      const scope = request.scope ?? closureScope(request.closure);
      const write = plan.output.compression === 'zstd' ? writeCompressedLiveIso : writeLiveIso;
      ({ system } = await write(plan, request.closure, scope, image, request.epoch, { ...control, phase }, request.cache));
    } else if (isKexecPlan(plan)) {
      const scope = request.scope ?? closureScope(request.closure);
      const scriptInputs = request.scriptInputsClosure;
      if (scriptInputs === undefined) throw new ImageError('plan.invalid', `Cannot write ${plan.format}: the closure of the kexec script's inputs was not given`);
      await writeKexecImage(plan, { system: request.closure, scriptInputs }, scope, image, request.epoch, { ...control, phase }, request.cache);
      system = toplevelSystem(plan.toplevel);
    } else if (isVmPlan(plan)) {
      const scope = request.scope ?? closureScope(request.closure);
      ({ system } = await writeVmFiles(plan, request.closure, scope, image, (name) => create(name), request.epoch, { ...control, phase }));
    } else if (isTarballPlan(plan)) {
      await writeSystemTarball(plan, request.closure, request.scope ?? closureScope(request.closure), image, { ...control, phase }, request.cache);
      system = toplevelSystem(plan.toplevel);
    } else {
      // Made before the disk, so that the layout's walk can hand it the new store files'
      // spans to compress ahead (compress/anticipation.ts).
      const compressor = isStreamOutput(plan) ? compressingSinkFor(plan, image, request.cache) : undefined;
      const identify = storeFileIdentity(request.closure);
      const observe = compressor?.anticipate === undefined || !streamDescribesSpans(plan) ? undefined : anticipateLoneParts(compressor, identify);
      const storePaths = request.closure.registrations.map((r) => r.path);
      const recordScope = `${plan.output.compression} ${plan.output.compressionLevel ?? 'default'}`;
      let disk: DiskImage;
      try {
        if (observe !== undefined && request.cache !== undefined) {
          listNewStorePaths(storePaths, recordedStorePaths(request.cache, recordScope), observe);
        }
        disk = await buildDiskImage(plan, request.closure, request.epoch, request.scope, { onFile: observe, cache: request.cache });
        await writeContainer(plan, disk.image, image, request.epoch, { ...control, phase }, request.cache, identify, compressor);
        if (observe !== undefined && request.cache !== undefined) recordStorePaths(request.cache, recordScope, storePaths);
      } catch (error) {
        await compressor?.abort();
        throw error;
      }
      if (plan.output.sideFiles?.includes('amazon-image-info') === true) {
        makeDirectory(join(outputDir, 'nix-support'));
        create('nix-support/image-info.json').writeAt(0, new TextEncoder().encode(amazonImageInfo(plan, imagePath, disk.image.size, disk.system)));
      }
      system = disk.system;
    }
    const written: WrittenFile[] = [];
    for (const { name, out } of outputs) {
      const digest = await out.sha256(control);
      written.push({ path: out.finalPath, name, size: digest.size, sha256: digest.sha256 });
    }
    const checksumsPath = join(outputDir, SHA256SUMS);
    const checksums = OutputFile.create(checksumsPath);
    outputs.push({ name: SHA256SUMS, out: checksums });
    checksums.writeAt(0, new TextEncoder().encode(sha256sumsText(written)));
    // The old SHA256SUMS goes first and the new one comes last, so a SHA256SUMS that is
    // there always matches the files beside it, even if a rename fails in between.
    removeStale(checksumsPath);
    for (const { out } of outputs) out.commit();
    if (isVmPlan(plan)) linkVmSystem(plan, outputDir);
    return { image: written[0]!, sideFiles: written.slice(1), checksums: checksumsPath, system };
  } catch (error) {
    for (const { out } of outputs) out.abort();
    throw error;
  }
}
