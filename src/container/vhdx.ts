/**
 * VHDX writer, dynamic subformat ([MS-VHDX]; format-specs §3; docs/formats/vhdx.md).
 * Everything sits at whole MiB:
 *
 *   0        file identifier, header 1 (64 KiB), header 2 (128 KiB), region tables (192, 256 KiB)
 *   1 MiB    log (1 MiB, empty: the headers' log GUID is zero)
 *   2 MiB    BAT region (whole MiB)
 *   then     metadata region (1 MiB)
 *   then     payload blocks, in guest order, only for blocks holding a non-zero byte
 *
 * The image is read once, in order, in 1 MiB windows. A block gets its place in the file
 * when its first non-zero window arrives; windows of zeros inside an allocated block are
 * not written (holes that read as zeros). BAT entries are produced in block order too, so
 * the BAT is written behind the data in 1 MiB pieces to its reserved place: memory stays
 * constant whatever the disk size. Blocks without data get the ZERO state, which (unlike
 * NOT_PRESENT) obliges every reader to return zeros. GUIDs come from the seed and nothing
 * depends on the clock, so the same image and options give the same bytes.
 */
import { isAllZero, readWindows, type BlockImage } from '../core/block-image.js';
import { ImageError, UsageError } from '../core/errors.js';
import type { OutputFile } from '../core/output-file.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import { deriveUuid } from '../core/reproducible.js';
import {
  BAT_REGION_GUID, batEntryCount, chunkRatio, defaultBlockSize, FILE_IDENTIFIER_OFFSET, FILE_PARAMETERS_GUID, FILE_SIGNATURE,
  fileIdentifier, fileParameters, guid, HEADER1_OFFSET, HEADER2_OFFSET, HEADER_SIGNATURE, HEADER_SIZE, LOG_VERSION,
  LOGICAL_SECTOR_SIZE, LOGICAL_SECTOR_SIZE_GUID, MAX_BLOCK_SIZE, MAX_VIRTUAL_SIZE, METADATA_IS_REQUIRED, METADATA_IS_VIRTUAL_DISK,
  METADATA_REGION_GUID, METADATA_REGION_LENGTH, METADATA_SIGNATURE, METADATA_TABLE_SIZE, metadataTableEntry, metadataTableHeader,
  MiB, MIN_BLOCK_SIZE, PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_ZERO, payloadBatIndex, PHYSICAL_SECTOR_SIZE_GUID, REGION_REQUIRED,
  REGION_TABLE1_OFFSET, REGION_TABLE2_OFFSET, REGION_TABLE_SIGNATURE, REGION_TABLE_SIZE, regionTableEntry, regionTableHeader,
  sealChecksum, setBatEntry, utf16le, VHDX_VERSION, vhdxHeader, VIRTUAL_DISK_ID_GUID, VIRTUAL_DISK_SIZE_GUID,
} from './vhdx-format.js';

export interface VhdxOptions {
  /** Identity the GUIDs (file/data write GUIDs, virtual disk id) are derived from. */
  readonly seed: string;
  /**
   * Payload block size in bytes, a power of two from 1 MiB to 256 MiB; default: what
   * qemu-img 7.2 picks for the size (8 MiB up to 1 GiB, 16 MiB up to 100 GiB, 32 MiB up to
   * 32 TiB, 64 MiB above).
   */
  readonly blockSize?: number;
  /** Physical sector size the guest sees; default 512, as qemu-img writes (Hyper-V's default is 4096). */
  readonly physicalSectorSize?: 512 | 4096;
}

const WINDOW = MiB;
const LOG_OFFSET = MiB;
const LOG_LENGTH = MiB;
const BAT_OFFSET = 2 * MiB;
/** BAT bytes gathered before each write: 131072 entries. */
const BAT_CHUNK = MiB;
/** Informational only ([MS-VHDX] 2.2.1: must not influence readers); no version, for determinism. */
const CREATOR = 'nixos-generate';

export interface VhdxLayout {
  readonly virtualSize: number;
  readonly blockSize: number;
  readonly chunkRatio: number;
  readonly dataBlocks: number;
  readonly batEntries: number;
  readonly batOffset: number;
  readonly batLength: number;
  readonly metadataOffset: number;
  readonly payloadOffset: number;
}

/** Where each structure goes for a virtual size and block size. */
export function vhdxLayout(virtualSize: number, blockSize: number): VhdxLayout {
  const ratio = chunkRatio(blockSize);
  const dataBlocks = Math.ceil(virtualSize / blockSize);
  const batEntries = batEntryCount(dataBlocks, ratio);
  const batLength = Math.max(MiB, Math.ceil((batEntries * 8) / MiB) * MiB);
  const metadataOffset = BAT_OFFSET + batLength;
  return {
    virtualSize, blockSize, chunkRatio: ratio, dataBlocks, batEntries,
    batOffset: BAT_OFFSET, batLength, metadataOffset, payloadOffset: metadataOffset + METADATA_REGION_LENGTH,
  };
}

/**
 * Writes `image` into `out` as a dynamic VHDX. The virtual size is the image size rounded
 * up to whole 512-byte logical sectors. The caller owns `out`: it commits on success and
 * aborts on failure or cancellation.
 */
export async function writeVhdx(image: BlockImage, out: OutputFile, options: VhdxOptions, control: PhasedControl = {}): Promise<void> {
  const { seed, blockSize: requestedBlockSize, physicalSectorSize } = validateOptions(options);
  const virtualSize = Math.ceil(image.size / LOGICAL_SECTOR_SIZE) * LOGICAL_SECTOR_SIZE;
  if (virtualSize === 0) {
    // An empty BAT: qemu 7.2 refuses such a file ("Invalid argument"), and so does libvhdi.
    throw new ImageError('vhdx.empty', 'Cannot write an empty (0-byte) disk as VHDX: readers refuse it');
  }
  if (virtualSize > MAX_VIRTUAL_SIZE) {
    throw new ImageError('vhdx.too-large', `Cannot write a ${image.size}-byte disk as VHDX: the format holds at most ${MAX_VIRTUAL_SIZE} bytes (64 TiB)`);
  }
  const layout = vhdxLayout(virtualSize, requestedBlockSize ?? defaultBlockSize(virtualSize));
  const { blockSize } = layout;
  const windowsPerBlock = blockSize / WINDOW;

  const report = progressReporter(control, 'write vhdx', image.size);
  const step = throttledCheckpoint(control, 128);
  report(0);
  await checkpoint(control);

  const bat = new BatWriter(out, layout);
  let nextFree = layout.payloadOffset;
  /** The block the current window belongs to, and its file offset once it has data (0 before). */
  let block = -1;
  let blockOffset = 0;
  const finishBlock = (): void => {
    if (block >= 0) bat.set(block, blockOffset === 0 ? PAYLOAD_BLOCK_ZERO : PAYLOAD_BLOCK_FULLY_PRESENT, blockOffset);
  };

  for (const window of readWindows(image, WINDOW)) {
    const windowBlock = Math.floor(window.index / windowsPerBlock);
    if (windowBlock !== block) {
      finishBlock();
      await bat.fillZero(block + 1, windowBlock, step);
      block = windowBlock;
      blockOffset = 0;
    }
    if (!isAllZero(window.data)) {
      if (blockOffset === 0) {
        blockOffset = nextFree;
        nextFree += blockSize;
      }
      out.writeAt(blockOffset + (window.index % windowsPerBlock) * WINDOW, window.data);
    }
    const pause = step();
    if (pause !== undefined) {
      report((window.index + 1) * WINDOW);
      await pause;
    }
  }
  finishBlock();
  await bat.fillZero(block + 1, layout.dataBlocks, step);
  bat.flush();

  out.writeAt(layout.metadataOffset, encodeMetadata(layout, seed, physicalSectorSize));
  const identifier = fileIdentifier.encode({ signature: ascii(FILE_SIGNATURE), creator: utf16le(CREATOR, 512) });
  out.writeAt(FILE_IDENTIFIER_OFFSET, identifier);
  out.writeAt(HEADER1_OFFSET, encodeHeader(seed, 1));
  out.writeAt(HEADER2_OFFSET, encodeHeader(seed, 2));
  const regionTable = encodeRegionTable(layout);
  out.writeAt(REGION_TABLE1_OFFSET, regionTable);
  out.writeAt(REGION_TABLE2_OFFSET, regionTable);
  // The file ends with the last payload block, or with the metadata region when no block has data.
  out.truncate(nextFree);
  report(image.size);
}

/** Streams BAT entries, produced in block order, to the BAT region in 1 MiB pieces. */
class BatWriter {
  private readonly out: OutputFile;
  private readonly layout: VhdxLayout;
  private readonly chunk = new Uint8Array(BAT_CHUNK);
  private readonly view = new DataView(this.chunk.buffer);
  private readonly entriesPerChunk = BAT_CHUNK / 8;
  /** Index of the BAT piece held in `chunk`. */
  private current = 0;
  private dirty = false;

  constructor(out: OutputFile, layout: VhdxLayout) {
    this.out = out;
    this.layout = layout;
  }

  /** Sets the entry of payload block `block`; true when a full piece was written out first. */
  set(block: number, state: number, fileOffset: number): boolean {
    const index = payloadBatIndex(block, this.layout.chunkRatio);
    const piece = Math.floor(index / this.entriesPerChunk);
    let wrote = false;
    if (piece !== this.current) {
      wrote = this.dirty;
      this.flush();
      this.current = piece;
    }
    setBatEntry(this.view, index - piece * this.entriesPerChunk, state, fileOffset);
    this.dirty = true;
    return wrote;
  }

  /** ZERO entries for blocks [from, to), pausing at checkpoints between pieces. */
  async fillZero(from: number, to: number, step: () => Promise<void> | undefined): Promise<void> {
    for (let b = from; b < to; b++) {
      if (this.set(b, PAYLOAD_BLOCK_ZERO, 0)) {
        const pause = step();
        if (pause !== undefined) await pause;
      }
    }
  }

  /** Writes the piece held, up to the last BAT entry; the sector bitmap slots stay 0. */
  flush(): void {
    if (!this.dirty) return;
    const first = this.current * this.entriesPerChunk;
    const entries = Math.min(this.entriesPerChunk, this.layout.batEntries - first);
    this.out.writeAt(this.layout.batOffset + first * 8, this.chunk.subarray(0, entries * 8));
    this.chunk.fill(0);
    this.dirty = false;
  }
}

function encodeHeader(seed: string, sequenceNumber: number): Uint8Array {
  const header = vhdxHeader.encode({
    signature: ascii(HEADER_SIGNATURE),
    checksum: 0,
    sequenceNumber,
    fileWriteGuid: guid(deriveUuid(seed, 'vhdx-file-write-guid')),
    dataWriteGuid: guid(deriveUuid(seed, 'vhdx-data-write-guid')),
    logGuid: new Uint8Array(16),
    logVersion: LOG_VERSION,
    version: VHDX_VERSION,
    logLength: LOG_LENGTH,
    logOffset: LOG_OFFSET,
  });
  if (header.length !== HEADER_SIZE) throw new ImageError('vhdx.header', 'Internal error: VHDX header size');
  return sealChecksum(header);
}

function encodeRegionTable(layout: VhdxLayout): Uint8Array {
  const table = new Uint8Array(REGION_TABLE_SIZE);
  regionTableHeader.encode({ signature: ascii(REGION_TABLE_SIGNATURE), checksum: 0, entryCount: 2 }, table);
  const regions = [
    { guid: guid(BAT_REGION_GUID), fileOffset: layout.batOffset, length: layout.batLength },
    { guid: guid(METADATA_REGION_GUID), fileOffset: layout.metadataOffset, length: METADATA_REGION_LENGTH },
  ];
  regions.forEach((region, i) => regionTableEntry.encode({ ...region, required: REGION_REQUIRED }, table, regionTableHeader.size + i * regionTableEntry.size));
  return sealChecksum(table);
}

/** The metadata table and its five items, packed from 64 KiB into the region as qemu-img does. */
function encodeMetadata(layout: VhdxLayout, seed: string, physicalSectorSize: number): Uint8Array {
  const items: { id: string; flags: number; data: Uint8Array }[] = [
    { id: FILE_PARAMETERS_GUID, flags: METADATA_IS_REQUIRED, data: fileParameters.encode({ blockSize: layout.blockSize, flags: 0 }) },
    { id: VIRTUAL_DISK_SIZE_GUID, flags: METADATA_IS_REQUIRED | METADATA_IS_VIRTUAL_DISK, data: u64(layout.virtualSize) },
    { id: VIRTUAL_DISK_ID_GUID, flags: METADATA_IS_REQUIRED | METADATA_IS_VIRTUAL_DISK, data: guid(deriveUuid(seed, 'vhdx-virtual-disk-id')) },
    { id: LOGICAL_SECTOR_SIZE_GUID, flags: METADATA_IS_REQUIRED | METADATA_IS_VIRTUAL_DISK, data: u32(LOGICAL_SECTOR_SIZE) },
    { id: PHYSICAL_SECTOR_SIZE_GUID, flags: METADATA_IS_REQUIRED | METADATA_IS_VIRTUAL_DISK, data: u32(physicalSectorSize) },
  ];
  const itemBytes = items.reduce((sum, item) => sum + item.data.length, 0);
  const region = new Uint8Array(METADATA_TABLE_SIZE + itemBytes);
  metadataTableHeader.encode({ signature: ascii(METADATA_SIGNATURE), entryCount: items.length }, region);
  let offset = METADATA_TABLE_SIZE;
  items.forEach((item, i) => {
    metadataTableEntry.encode({ itemId: guid(item.id), offset, length: item.data.length, flags: item.flags }, region, metadataTableHeader.size + i * metadataTableEntry.size);
    region.set(item.data, offset);
    offset += item.data.length;
  });
  return region;
}

function validateOptions(options: VhdxOptions): { seed: string; blockSize: number | undefined; physicalSectorSize: number } {
  for (const key of Object.keys(options)) {
    if (key !== 'seed' && key !== 'blockSize' && key !== 'physicalSectorSize') {
      throw new UsageError('vhdx.unknown-option', `Cannot use VHDX option "${key}": expected seed, blockSize or physicalSectorSize`);
    }
  }
  const { seed, blockSize, physicalSectorSize = 512 } = options;
  if (typeof seed !== 'string' || seed === '') {
    throw new UsageError('vhdx.seed', `Cannot use VHDX seed ${JSON.stringify(seed)}: expected a non-empty string`);
  }
  if (blockSize !== undefined) {
    const powerOfTwo = Number.isSafeInteger(blockSize) && blockSize > 0 && 2 ** Math.round(Math.log2(blockSize)) === blockSize;
    if (!powerOfTwo || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
      throw new UsageError('vhdx.block-size', `Cannot use VHDX block size ${String(blockSize)}: expected a power of two from ${MIN_BLOCK_SIZE} (1 MiB) to ${MAX_BLOCK_SIZE} (256 MiB)`, {
        hint: 'leave it unset to get the size qemu-img would pick',
      });
    }
  }
  if (physicalSectorSize !== 512 && physicalSectorSize !== 4096) {
    throw new UsageError('vhdx.physical-sector-size', `Cannot use VHDX physical sector size ${String(physicalSectorSize)}: expected 512 or 4096`);
  }
  return { seed, blockSize, physicalSectorSize };
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
