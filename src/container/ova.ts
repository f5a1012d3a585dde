/**
 * VirtualBox OVA (format-specs §6.1; nixpkgs virtualbox-image.nix): a ustar tar holding
 * `<stem>.ovf` first, then `<stem>-disk001.vmdk` (streamOptimized), then `<stem>.mf` with the
 * SHA-256 of both, the order VirtualBox's exporter uses. The VMDK's size is unknown until it
 * is written, so its tar header goes out as a placeholder and the OVF reserves fixed room for
 * ovf:size; both are overwritten in place once the disk is done (no temporary copy of the
 * disk). The digests are computed while streaming.
 */
import { basename } from 'node:path';
import type { BlockImage } from '../core/block-image.js';
import { UsageError } from '../core/errors.js';
import type { OutputFile } from '../core/output-file.js';
import type { UnitCache } from '../core/unit-cache.js';
import { outputFileSink } from '../core/sink.js';
import { hashingSink, sha256Hex } from '../archive/sinks.js';
import { TarWriter } from '../archive/tar.js';
import type { PhasedControl } from '../core/progress.js';
import { derivedMac, manifestLine, renderOvf, type OvfController, type OvfFirmware, type OvfMachine, type OvfNic } from './ova-ovf.js';
import { writeVmdkStream } from './vmdk.js';
import { geometry, SECTOR } from './vmdk-format.js';

export interface OvaOptions {
  /** Identifiers (VMDK CID, disk and machine UUIDs) derive from it. */
  readonly seed: string;
  /** Member mtimes, seconds since 1970 (SOURCE_DATE_EPOCH). */
  readonly epoch: number;
  /** Names of the members: `<stem>.ovf`, `<stem>-disk001.vmdk`, `<stem>.mf`; default the output name without `.ova`. */
  readonly fileStem?: string;
  /** VM name; default the file stem. nixpkgs: "NixOS <label> (<system>)". */
  readonly vmName?: string;
  /** Default 1536, nixpkgs' virtualbox.memorySize. */
  readonly memoryMiB?: number;
  /** Default 1. */
  readonly cpus?: number;
  /** Default 'sata', nixpkgs' storageController. */
  readonly controller?: OvfController;
  /** Default 'virtio', nixpkgs' nictype1. */
  readonly nic?: OvfNic;
  /** Default 'bios' (nixpkgs' VirtualBox images boot GRUB from an MBR disk). */
  readonly firmware?: OvfFirmware;
  /** MAC of the NIC in the vbox:Machine section (EFI only); default derived from the seed. */
  readonly macAddress?: string;
  /** The disk's grains looked up by their content (`--cache`); never changes the bytes. */
  readonly cache?: UnitCache | undefined;
}

export function ovaMachine(options: OvaOptions & { readonly fileStem: string }, defaultMac: string): OvfMachine {
  return {
    vmName: options.vmName ?? options.fileStem,
    memoryMiB: options.memoryMiB ?? 1536,
    cpus: options.cpus ?? 1,
    controller: options.controller ?? 'sata',
    nic: options.nic ?? 'virtio',
    firmware: options.firmware ?? 'bios',
    macAddress: options.macAddress ?? defaultMac,
    seed: options.seed,
  };
}

/**
 * Writes `image` into `out` as an OVA. The caller owns `out`: it commits on success and
 * aborts on failure or cancellation.
 */
export async function writeOva(image: BlockImage, out: OutputFile, options: OvaOptions, control: PhasedControl = {}): Promise<void> {
  const fileStem = options.fileStem ?? basename(out.finalPath).replace(/\.ova$/i, '');
  if (fileStem === '' || /[/\0\n()]/.test(fileStem)) {
    throw new UsageError('ova.name', `Cannot name OVA members after "${fileStem}": expected a name without slashes, parentheses or line breaks`);
  }
  const machine = ovaMachine({ ...options, fileStem }, derivedMac(options.seed));
  const ovfName = `${fileStem}.ovf`;
  const vmdkName = `${fileStem}-disk001.vmdk`;
  const capacity = geometry(image.size).capacity * SECTOR;
  const disk = { href: vmdkName, capacity };

  const file = outputFileSink(out);
  const tar = new TarWriter(file, { mtime: options.epoch, format: 'ustar' });
  const placeholder = new TextEncoder().encode(renderOvf(machine, { ...disk, fileSize: undefined }));
  await tar.addFile(ovfName, placeholder);
  const ovfDataOffset = tar.position - Math.ceil(placeholder.length / 512) * 512;

  let vmdkDigest = '';
  const vmdk = await tar.addDeferred(vmdkName, async (member) => {
    const hashing = hashingSink(member, false);
    await writeVmdkStream(image, hashing, {
      subformat: 'streamOptimized', seed: options.seed, fileName: vmdkName, cache: options.cache,
    }, { ...control, phase: control.phase ?? 'write ova' });
    vmdkDigest = hashing.digest();
  });

  const ovf = new TextEncoder().encode(renderOvf(machine, { ...disk, fileSize: vmdk.size }));
  if (ovf.length !== placeholder.length) throw new UsageError('ova.ovf-length', 'Internal error: the OVF changed length when its ovf:size was filled in');
  const manifest = manifestLine(ovfName, sha256Hex(ovf)) + manifestLine(vmdkName, vmdkDigest);
  await tar.addFile(`${fileStem}.mf`, new TextEncoder().encode(manifest));
  await tar.finish();

  out.writeAt(ovfDataOffset, ovf);
  out.writeAt(vmdk.headerOffset, vmdk.header);
  out.truncate(file.position);
}
