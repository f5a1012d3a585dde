/**
 * Writes an ISO 9660 image straight into an OutputFile: file data first (read once, in
 * sector order), then the deferred file at the first free sector, then everything that
 * depends on its size: directories, path tables, descriptors, boot catalog and the hybrid
 * MBR/GPT. Every date is options.mtime.
 */
import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { openListedFile } from '../../core/listed-file.js';
import { ImageError, UsageError } from '../../core/errors.js';
import type { OutputFile } from '../../core/output-file.js';
import { checkpoint, progressReporter, type RunControl } from '../../core/progress.js';
import type { DirNode, FileNode } from '../tree.js';
import { SECTOR_SIZE } from './both-endian.js';
import { encodeBootCatalog, PLATFORM_EFI, PLATFORM_X86, type BootEntry } from './boot-catalog.js';
import { patchBootInfoTable } from './boot-info-table.js';
import { encodeRecord, FLAG_DIRECTORY, FLAG_NOT_FINAL, PARENT_ID, SELF_ID } from './directory-record.js';
import { encodeHybridGpt, GPT_TAIL_SECTORS, type EfiPartitionType } from './hybrid-gpt.js';
import { encodeHybridMbr, hybridGeometry, MBR_CODE_BYTES } from './hybrid-mbr.js';
import { isoIdentifier } from './iso-names.js';
import { ucs2 } from './joliet-names.js';
import { extentCount, MAX_EXTENT_BYTES, planIso, type IsoLayout, type PlannedData, type PlannedDir, type PlannedEntry } from './layout.js';
import { encodePathTable, type PathTableDir } from './path-table.js';
import { encodeSplit, type SplitEntries } from './susp-area.js';
import {
  bootRecordDescriptor, FIRST_DESCRIPTOR_SECTOR, jolietDescriptor, primaryDescriptor, terminatorDescriptor, type VolumeFields,
} from './volume-descriptor.js';

export interface IsoOptions {
  /** At most 32 printable ASCII characters, stored as given (xorriso accepts "nixos-minimal-25.05-x86_64"). */
  readonly volumeId: string;
  /** SOURCE_DATE_EPOCH: every date in the image. */
  readonly mtime: number;
  /** No-emulation El Torito entry, as xorriso -b -no-emul-boot -boot-load-size 4 [-boot-info-table]. */
  readonly bios?: { readonly bootImage: string; readonly bootInfoTable: boolean; readonly loadSectors?: number };
  /** A FAT image in the tree: second El Torito entry, platform 0xEF. */
  readonly efi?: { readonly bootImage: string };
  /**
   * isohybrid: MBR boot code (isohdpfx.bin) and partition table, and with gpt the GPT of
   * xorriso -isohybrid-gpt-basdat. The GUID is 32 hex digits as xorriso's gpt_disk_guid=
   * takes them (bytes as stored); by default it is derived from the volume ID and mtime.
   */
  readonly hybrid?: {
    readonly mbrCode?: Uint8Array;
    readonly gpt: boolean;
    readonly gptDiskGuid?: string;
    /** Type of the GPT partition over the EFI image; xorriso writes Basic Data. */
    readonly efiPartitionType?: EfiPartitionType;
  };
  /** Where the boot catalog appears in the tree; default ".boot.cat" as nixpkgs names it. */
  readonly bootCatalogPath?: string;
  readonly systemId?: string;
  readonly publisherId?: string;
  readonly applicationId?: string;
}

/** A file whose bytes are written by a callback directly into the ISO, placed last, its size known only once written (the squashfs). */
export interface DeferredFile {
  readonly path: string;
  readonly mode: number;
  readonly maxBytes: number;
  readonly write: (out: OutputFile, start: number) => Promise<number>;
}

/** xorriso -as mkisofs pads 300 KiB after the last file. */
const TAIL_PADDING_SECTORS = 150;
const COPY_CHUNK = 1 << 20;
const PREPARER = 'NIXOS-GENERATORS-TS';

function checkText(what: string, value: string, max: number, aChars: boolean): void {
  if (value.length > max) {
    throw new UsageError('iso.id-invalid', `Cannot use ${what} "${value}": it is ${value.length} characters, at most ${max} fit`);
  }
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) {
      throw new UsageError('iso.id-invalid', `Cannot use ${what} "${value}": it contains ${JSON.stringify(ch)}, which ISO 9660 cannot hold`, {
        hint: aChars ? 'use printable ASCII' : 'use ASCII letters, digits and - _ .',
      });
    }
  }
}

function checkOptions(options: IsoOptions, deferred: DeferredFile | undefined): void {
  checkText('volume ID', options.volumeId, 32, false);
  checkText('system ID', options.systemId ?? '', 32, true);
  checkText('publisher ID', options.publisherId ?? '', 128, true);
  checkText('application ID', options.applicationId ?? '', 128, true);
  if (!Number.isSafeInteger(options.mtime) || options.mtime < 0) {
    throw new UsageError('iso.mtime-invalid', `Cannot date the ISO at ${options.mtime}: expected whole seconds since 1970`);
  }
  const load = options.bios?.loadSectors;
  if (load !== undefined && (!Number.isInteger(load) || load < 1 || load > 0xffff)) {
    throw new UsageError('iso.load-size-invalid', `Cannot load ${load} sectors of the BIOS boot image: expected 1 to 65535`);
  }
  const code = options.hybrid?.mbrCode;
  if (code !== undefined && code.length !== MBR_CODE_BYTES && code.length !== 512) {
    throw new UsageError('iso.mbr-code-invalid', `Cannot use ${code.length} bytes as isohybrid MBR code: expected 432 (isohdpfx.bin) or 512`);
  }
  const guid = options.hybrid?.gptDiskGuid;
  if (guid !== undefined && !/^[0-9a-fA-F]{32}$/.test(guid)) {
    throw new UsageError('iso.gpt-guid-invalid', `Cannot use "${guid}" as the GPT disk GUID: expected 32 hex digits`);
  }
  if (deferred !== undefined && (!Number.isSafeInteger(deferred.maxBytes) || deferred.maxBytes < 0)) {
    throw new UsageError('iso.deferred-invalid', `Cannot reserve ${deferred.maxBytes} bytes for "${deferred.path}": expected a whole number of bytes`);
  }
}

function hashBytes(options: IsoOptions, what: string): Buffer {
  return createHash('sha256').update(`iso9660 ${what}\0${options.volumeId}\0${options.mtime}`).digest();
}

export async function writeIso(root: DirNode, out: OutputFile, options: IsoOptions, deferred?: DeferredFile, control: RunControl = {}): Promise<{ bytes: number }> {
  checkOptions(options, deferred);
  const hasBoot = options.bios !== undefined || options.efi !== undefined;
  const layout = planIso(root, {
    mtime: options.mtime,
    biosPath: options.bios?.bootImage,
    efiPath: options.efi?.bootImage,
    catalogPath: hasBoot ? (options.bootCatalogPath ?? '.boot.cat') : undefined,
    deferred,
  });

  const total = layout.files.reduce((n, f) => n + f.size, 0);
  const report = progressReporter(control, 'write iso', total);
  let done = 0;
  for (const file of layout.files) {
    if (file.source.kind !== 'tree' || file.size === 0) continue;
    if (file === layout.bios && options.bios?.bootInfoTable === true) {
      const image = patchBootInfoTable(readWhole(file.source.node), options.bios.bootImage, file.sector);
      out.writeAt(file.sector * SECTOR_SIZE, image);
    } else {
      copyFile(file.source.node, out, file.sector * SECTOR_SIZE);
    }
    done += file.size;
    report(done);
    await checkpoint(control);
  }

  let end = layout.dataEnd;
  if (deferred !== undefined && layout.deferred !== undefined) {
    const start = layout.deferred.sector * SECTOR_SIZE;
    const written = await deferred.write(out, start);
    if (!Number.isSafeInteger(written) || written < 0 || written > deferred.maxBytes) {
      throw new ImageError('iso.deferred-too-large', `Cannot place "${deferred.path}": it was ${written} bytes, more than the ${deferred.maxBytes} reserved`, {
        hint: 'reserve more bytes (maxBytes) for the deferred file',
      });
    }
    layout.deferred.size = written;
    end += Math.ceil(written / SECTOR_SIZE);
  }

  // Sizes: 300 KiB of padding, room for the backup GPT, whole cylinders for isohybrid.
  let sectors = end + TAIL_PADDING_SECTORS;
  if (options.hybrid !== undefined) {
    if (options.hybrid.gpt) sectors += Math.ceil((GPT_TAIL_SECTORS * 512) / SECTOR_SIZE);
    const geometry = hybridGeometry(sectors * 4);
    const cylinder = (geometry.heads * geometry.sectorsPerTrack) / 4;
    sectors = Math.ceil(sectors / cylinder) * cylinder;
  }
  await checkpoint(control);
  writeMetadata(layout, out, options, sectors);
  if (options.hybrid !== undefined) writeSystemArea(layout, out, options, sectors);
  out.truncate(sectors * SECTOR_SIZE);
  return { bytes: sectors * SECTOR_SIZE };
}

function readWhole(node: FileNode): Uint8Array {
  if (node.content.kind === 'bytes') return node.content.bytes;
  const bytes = new Uint8Array(node.size);
  const fd = openListedFile(node.content.path, node.size);
  try {
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    if (at !== node.size) throw shrunk(node.content.path, node.size, at);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function shrunk(path: string, expected: number, got: number): ImageError {
  return new ImageError('iso.input-changed', `Cannot copy "${path}": it had ${expected} bytes when listed and ${got} now`, {
    hint: 'do not change the input tree while the image is written',
  });
}

let copyBuffer: Uint8Array | undefined;

function copyFile(node: FileNode, out: OutputFile, position: number): void {
  if (node.content.kind === 'bytes') {
    out.writeAt(position, node.content.bytes);
    return;
  }
  copyBuffer ??= new Uint8Array(COPY_CHUNK);
  const fd = openListedFile(node.content.path, node.size);
  try {
    let at = 0;
    while (at < node.size) {
      const n = readSync(fd, copyBuffer, 0, Math.min(COPY_CHUNK, node.size - at), at);
      if (n === 0) throw shrunk(node.content.path, node.size, at);
      // Runs of zeros (a sparse file's holes) stay holes in the ISO file too.
      out.writeOrSkipZeros(position + at, copyBuffer.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

function writeMetadata(layout: IsoLayout, out: OutputFile, options: IsoOptions, sectors: number): void {
  const { mtime } = options;
  const at = (sector: number): number => sector * SECTOR_SIZE;

  // Directories and their continuation areas.
  const heap = new Uint8Array(layout.heapSectors * SECTOR_SIZE);
  const su = (split: SplitEntries | undefined, places: { block: number; offset: number }[]): Uint8Array => {
    const placed = encodeSplit(split!, places.map((p) => ({ block: p.block + layout.heapSector, offset: p.offset })));
    for (const area of placed.areas) heap.set(area.bytes, (area.block - layout.heapSector) * SECTOR_SIZE + area.offset);
    return placed.systemUse;
  };
  for (const d of layout.dirs) {
    const parent = d.parent ?? d;
    const records = [
      encodeRecord({ extent: d.sector, size: d.size, mtime, flags: FLAG_DIRECTORY, identifier: SELF_ID, systemUse: su(d.selfSplit, d.selfPlaces) }),
      encodeRecord({ extent: parent.sector, size: parent.size, mtime, flags: FLAG_DIRECTORY, identifier: PARENT_ID, systemUse: su(d.parentSplit, d.parentPlaces) }),
    ];
    for (const e of d.entries) {
      const systemUse = su(e.split, e.areaPlaces);
      records.push(...entryRecords(e, new TextEncoder().encode(isoIdentifier(e.iso)), mtime, systemUse, false));
    }
    out.writeAt(at(d.sector), packRecords(records, d.size));
    const jolietRecords = [
      encodeRecord({ extent: d.jolietSector, size: d.jolietSize, mtime, flags: FLAG_DIRECTORY, identifier: SELF_ID }),
      encodeRecord({ extent: parent.jolietSector, size: parent.jolietSize, mtime, flags: FLAG_DIRECTORY, identifier: PARENT_ID }),
    ];
    for (const e of d.jolietEntries) jolietRecords.push(...entryRecords(e, ucs2(e.joliet), mtime, undefined, true));
    out.writeAt(at(d.jolietSector), packRecords(jolietRecords, d.jolietSize));
  }
  if (heap.length > 0) out.writeAt(at(layout.heapSector), heap);

  // Path tables.
  const number = new Map<PlannedDir, number>(layout.dirs.map((d, i) => [d, i + 1]));
  const table = (joliet: boolean): PathTableDir[] => layout.dirs.map((d) => ({
    identifier: joliet ? d.jolietIdentifier : d.identifier,
    extent: joliet ? d.jolietSector : d.sector,
    parentNumber: number.get(d.parent ?? d)!,
  }));
  out.writeAt(at(layout.pathTableSectors.l), encodePathTable(table(false), true));
  out.writeAt(at(layout.pathTableSectors.m), encodePathTable(table(false), false));
  out.writeAt(at(layout.pathTableSectors.jl), encodePathTable(table(true), true));
  out.writeAt(at(layout.pathTableSectors.jm), encodePathTable(table(true), false));

  // Volume descriptors.
  const rootRecord = (joliet: boolean): Uint8Array => encodeRecord({
    extent: joliet ? layout.root.jolietSector : layout.root.sector,
    size: joliet ? layout.root.jolietSize : layout.root.size,
    mtime, flags: FLAG_DIRECTORY, identifier: SELF_ID,
  });
  const fields = (joliet: boolean): VolumeFields => ({
    systemId: options.systemId ?? '',
    volumeId: options.volumeId,
    publisherId: joliet ? options.publisherId ?? '' : (options.publisherId ?? '').toUpperCase(),
    preparerId: PREPARER,
    applicationId: joliet ? options.applicationId ?? '' : (options.applicationId ?? '').toUpperCase(),
    volumeSpaceSize: sectors,
    pathTableSize: joliet ? layout.jolietPathTableSize : layout.pathTableSize,
    lPathTable: joliet ? layout.pathTableSectors.jl : layout.pathTableSectors.l,
    mPathTable: joliet ? layout.pathTableSectors.jm : layout.pathTableSectors.m,
    rootRecord: rootRecord(joliet),
    mtime,
  });
  out.writeAt(at(FIRST_DESCRIPTOR_SECTOR), primaryDescriptor(fields(false)));
  if (layout.bootRecordSector !== undefined) out.writeAt(at(layout.bootRecordSector), bootRecordDescriptor(layout.catalogSector!));
  out.writeAt(at(layout.jolietDescriptorSector), jolietDescriptor(fields(true)));
  out.writeAt(at(layout.terminatorSector), terminatorDescriptor());

  // Boot catalog.
  if (layout.catalogSector !== undefined) {
    const entries: BootEntry[] = [];
    if (layout.bios !== undefined) entries.push({ platform: PLATFORM_X86, loadSectors: options.bios?.loadSectors ?? 4, sector: layout.bios.sector });
    if (layout.efi !== undefined) entries.push({ platform: PLATFORM_EFI, loadSectors: Math.ceil(layout.efi.size / 512), sector: layout.efi.sector });
    out.writeAt(at(layout.catalogSector), encodeBootCatalog(entries));
  }
}

/** The records of one entry: one per extent of a file (all but the last flagged), else one. */
function entryRecords(e: PlannedEntry, identifier: Uint8Array, mtime: number, systemUse: Uint8Array | undefined, joliet: boolean): Uint8Array[] {
  const extra = systemUse === undefined ? {} : { systemUse };
  if (e.dir !== undefined) {
    const sector = joliet ? e.dir.jolietSector : e.dir.sector;
    const size = joliet ? e.dir.jolietSize : e.dir.size;
    return [encodeRecord({ extent: sector, size, mtime, flags: FLAG_DIRECTORY, identifier, ...extra })];
  }
  if (e.data === undefined) return [encodeRecord({ extent: 0, size: 0, mtime, flags: 0, identifier, ...extra })];
  const data: PlannedData = e.data;
  const count = extentCount(data.size);
  const records: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const size = Math.min(MAX_EXTENT_BYTES, data.size - k * MAX_EXTENT_BYTES);
    const extent = size === 0 ? 0 : data.sector + k * (MAX_EXTENT_BYTES / SECTOR_SIZE);
    records.push(encodeRecord({ extent, size, mtime, flags: k < count - 1 ? FLAG_NOT_FINAL : 0, identifier, ...extra }));
  }
  return records;
}

/** Records into a directory of `size` bytes; none crosses a sector, the rest stays zero. */
function packRecords(records: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const r of records) {
    if ((at % SECTOR_SIZE) + r.length > SECTOR_SIZE) at = Math.ceil(at / SECTOR_SIZE) * SECTOR_SIZE;
    if (at + r.length > size) throw new ImageError('iso.internal', 'Internal error: directory records outgrew their reserved sectors');
    out.set(r, at);
    at += r.length;
  }
  return out;
}

function writeSystemArea(layout: IsoLayout, out: OutputFile, options: IsoOptions, sectors: number): void {
  const hybrid = options.hybrid!;
  const imageSectors512 = sectors * 4;
  const efi = hybrid.gpt && layout.efi !== undefined ? { first: layout.efi.sector * 4, count: Math.ceil(layout.efi.size / 512) } : undefined;
  out.writeAt(0, encodeHybridMbr({
    code: hybrid.mbrCode,
    bootImageSector512: layout.bios === undefined ? undefined : layout.bios.sector * 4,
    diskSignature: hashBytes(options, 'mbr').readUInt32LE(0),
    imageSectors512,
    withGpt: hybrid.gpt,
    efi,
  }));
  if (!hybrid.gpt) return;
  const diskGuid = hybrid.gptDiskGuid === undefined
    ? new Uint8Array(hashBytes(options, 'gpt').subarray(0, 16))
    : Uint8Array.from(Buffer.from(hybrid.gptDiskGuid, 'hex'));
  const gpt = encodeHybridGpt({ diskGuid, imageSectors512, efi, efiType: hybrid.efiPartitionType ?? 'basic-data' });
  out.writeAt(512, gpt.primaryHeader);
  out.writeAt(1024, gpt.entries);
  out.writeAt(gpt.backupEntriesLba * 512, gpt.entries);
  out.writeAt(gpt.backupHeaderLba * 512, gpt.backupHeader);
}
