/**
 * Builds one image from a plan and the system closure: assembles the disk, writes it in
 * the plan's container (and compression) under a temporary name, renames it into place
 * when complete, and writes the format's side files.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BlockImage } from '../core/block-image.js';
import { ImageError } from '../core/errors.js';
import { OutputFile } from '../core/output-file.js';
import type { RunControl, PhasedControl } from '../core/progress.js';
import { outputFileSink, type ByteSink } from '../core/sink.js';
import { gzipSink } from '../compress/gzip.js';
import { zstdSink } from '../compress/zstd.js';
import { writeGceTarball } from '../container/gce.js';
import { writeOva } from '../container/ova.js';
import { PROXMOX_DEVICE_NAME } from '../container/proxmox-config.js';
import { writeQcow2 } from '../container/qcow2.js';
import { writeQcow2Stream } from '../container/qcow2-stream.js';
import { writeRaw, writeRawStream } from '../container/raw.js';
import { writeVagrantBox } from '../container/vagrant-box.js';
import { writeVhd } from '../container/vhd.js';
import { writeVhdx } from '../container/vhdx.js';
import { writeVma } from '../container/vma.js';
import { writeVmdk } from '../container/vmdk.js';
import type { ClosureScope } from '../nix/closure-scope.js';
import type { SystemClosure } from '../nix/root-tree.js';
import type { ImagePlan } from '../plan/types.js';
import { buildDiskImage } from './disk-image.js';

export interface BuildImageRequest {
  readonly plan: ImagePlan;
  readonly closure: SystemClosure;
  /** Directory that receives the image file (created if missing). */
  readonly outputDir: string;
  readonly epoch: number;
  /** Where boot files may come from (default: the closure alone). */
  readonly scope?: ClosureScope;
  readonly control?: RunControl;
}

/** Identifiers inside containers (VHD, VMDK, VMA ids) derive from the system and the format. */
function seedOf(plan: ImagePlan): string {
  return `${plan.toplevel}:${plan.format}`;
}

function missing(plan: ImagePlan, field: string): never {
  throw new ImageError('plan.invalid', `Cannot write ${plan.format}: the plan's output has no ${field}`);
}

/** Containers that are byte streams: written to a sink, so they can be compressed on the way. */
async function writeStream(plan: ImagePlan, image: BlockImage, sink: ByteSink, epoch: number, control: PhasedControl): Promise<void> {
  switch (plan.output.container) {
    case 'raw':
      return writeRawStream(image, sink, control);
    case 'qcow2':
      return writeQcow2Stream(image, sink, {}, control);
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

/** Writes the disk in the plan's container (and compression) into `out`. */
async function writeContainer(plan: ImagePlan, image: BlockImage, out: OutputFile, epoch: number, control: PhasedControl): Promise<void> {
  const output = plan.output;
  const seed = seedOf(plan);
  if (output.compression !== 'none' || output.container === 'vma') {
    const target = outputFileSink(out);
    const compressor = output.compression === 'gzip' ? gzipSink(target, { level: output.compressionLevel ?? 6 })
      : output.compression === 'zstd' ? zstdSink(target, { level: 3 })
      : undefined;
    const sink = compressor ?? target;
    try {
      await writeStream(plan, image, sink, epoch, control);
    } catch (error) {
      await compressor?.abort();
      throw error;
    }
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
      return writeVmdk(image, out, { subformat: output.vmdk?.subformat ?? missing(plan, 'vmdk.subformat'), seed }, control);
    case 'ova':
      return writeOva(image, out, {
        seed, epoch, fileStem: basename(output.fileName).replace(/\.ova$/, ''),
        vmName: machine().name, memoryMiB: machine().memoryMiB, cpus: machine().cpus,
      }, control);
    case 'vagrant-box':
      return writeVagrantBox(image, out, {
        seed, epoch, vmName: machine().name, memoryMiB: machine().memoryMiB, cpus: machine().cpus,
      }, control);
    case 'gce-tar':
      return writeGceTarball(image, out, { epoch, compressionLevel: output.compressionLevel ?? 6 }, control);
  }
}

/** nix-support/image-info.json, as nixpkgs' amazon image writes it. */
function writeAmazonImageInfo(plan: ImagePlan, outputDir: string, imagePath: string, virtualSize: number, system: string): void {
  let label: string;
  try {
    label = readFileSync(join(plan.toplevel, 'nixos-version'), 'utf8').trim();
  } catch {
    label = '';
  }
  const bootMode = plan.bootloader.type === 'grub' && plan.bootloader.bios !== null ? 'legacy-bios' : 'uefi';
  const info = {
    label,
    boot_mode: bootMode,
    system,
    logical_bytes: String(virtualSize),
    file: imagePath,
    disks: { root: { logical_bytes: String(virtualSize), file: imagePath } },
  };
  mkdirSync(join(outputDir, 'nix-support'), { recursive: true });
  writeFileSync(join(outputDir, 'nix-support/image-info.json'), `${JSON.stringify(info, null, 2)}\n`);
}

/** Returns the path of the finished image. */
export async function buildImage(request: BuildImageRequest): Promise<string> {
  const { plan, control = {} } = request;
  const disk = await buildDiskImage(plan, request.closure, request.epoch, request.scope);
  const finalPath = join(request.outputDir, plan.output.fileName);
  try {
    mkdirSync(dirname(finalPath), { recursive: true });
  } catch (error) {
    throw new ImageError('output.unwritable', `Cannot create the output directory "${dirname(finalPath)}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'choose another place with -o',
    });
  }
  const out = OutputFile.create(finalPath);
  let path: string;
  try {
    const phase = `write ${plan.output.fileName} (${plan.format})`;
    await writeContainer(plan, disk.image, out, request.epoch, { ...control, phase });
    path = out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
  if (plan.output.sideFiles?.includes('amazon-image-info') === true) {
    writeAmazonImageInfo(plan, request.outputDir, path, disk.image.size, disk.system);
  }
  return path;
}
