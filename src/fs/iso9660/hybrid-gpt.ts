/**
 * The GPT of xorriso -isohybrid-gpt-basdat: header at 512-byte LBA 1, 248 entries filling
 * the rest of the 32 KiB system area (LBA 2..63, first usable LBA 64), the backup entries
 * and header in the last 63 sectors of the image. Partition 1 "ISOHybrid" covers the image
 * from sector 0, partition 2 "ISOHybrid1" the EFI image inside it; both read-only Basic
 * Data unless the caller asks for an EFI System Partition. Partition GUIDs are the disk GUID
 * with byte 9 XOR the partition number, as xorriso derives them.
 */
import { crc32 } from '../../core/checksum.js';
import { encodeGptHeader, GPT_ENTRY_SIZE as ENTRY_SIZE, gptEntryStruct, gptPartitionName } from '../../partition/gpt.js';
import { guidToBytes } from '../../core/guid.js';
import { GPT_TYPE } from '../../partition/types.js';

export const GPT_ENTRY_COUNT = 248;
const ENTRY_SECTORS = (GPT_ENTRY_COUNT * ENTRY_SIZE) / 512;
export const GPT_FIRST_USABLE = 2 + ENTRY_SECTORS;
/** Backup entries and header at the end of the image. */
export const GPT_TAIL_SECTORS = ENTRY_SECTORS + 1;
/** Required (bit 0) and, for Basic Data, read-only (bit 60): past 2^53, so set as a bigint. */
const ATTRIBUTES = 0x1000000000000001n;
const ATTRIBUTES_OFFSET = 48;

export type EfiPartitionType = 'basic-data' | 'esp';

export interface HybridGptInput {
  /** 16 bytes as stored. */
  readonly diskGuid: Uint8Array;
  readonly imageSectors512: number;
  readonly efi: { readonly first: number; readonly count: number } | undefined;
  readonly efiType: EfiPartitionType;
}

export interface HybridGpt {
  readonly primaryHeader: Uint8Array;
  readonly entries: Uint8Array;
  readonly backupHeader: Uint8Array;
  /** 512-byte sectors of the backup entries and header. */
  readonly backupEntriesLba: number;
  readonly backupHeaderLba: number;
}

export function encodeHybridGpt(input: HybridGptInput): HybridGpt {
  const n = input.imageSectors512;
  const backupHeaderLba = n - 1;
  const backupEntriesLba = n - GPT_TAIL_SECTORS;
  const lastUsable = backupEntriesLba - 1;
  const entries = new Uint8Array(GPT_ENTRY_COUNT * ENTRY_SIZE);
  const partitionGuid = (number: number): Uint8Array => {
    const guid = new Uint8Array(input.diskGuid);
    guid[9] = guid[9]! ^ number;
    return guid;
  };
  const basicData = guidToBytes(GPT_TYPE['microsoft-basic-data']);
  gptEntryStruct.encode({
    typeGuid: basicData, uniqueGuid: partitionGuid(1), firstLba: 0, lastLba: lastUsable - 1, name: gptPartitionName('ISOHybrid'),
  }, entries, 0);
  if (input.efi !== undefined) {
    gptEntryStruct.encode({
      typeGuid: input.efiType === 'esp' ? guidToBytes(GPT_TYPE.esp) : basicData,
      uniqueGuid: partitionGuid(2),
      firstLba: input.efi.first,
      lastLba: input.efi.first + input.efi.count - 1,
      name: gptPartitionName('ISOHybrid1'),
    }, entries, ENTRY_SIZE);
  }
  const view = new DataView(entries.buffer);
  view.setBigUint64(ATTRIBUTES_OFFSET, ATTRIBUTES, true);
  if (input.efi !== undefined) view.setBigUint64(ENTRY_SIZE + ATTRIBUTES_OFFSET, input.efiType === 'esp' ? 1n : ATTRIBUTES, true);
  const entriesCrc = crc32(entries);
  const header = (myLba: number, alternateLba: number, entriesLba: number): Uint8Array => encodeGptHeader({
    myLba, alternateLba, entriesLba, firstUsableLba: GPT_FIRST_USABLE, lastUsableLba: lastUsable, diskGuid: input.diskGuid, entryCount: GPT_ENTRY_COUNT, entriesCrc,
  });
  return {
    primaryHeader: header(1, backupHeaderLba, 2),
    entries,
    backupHeader: header(backupHeaderLba, 1, backupEntriesLba),
    backupEntriesLba,
    backupHeaderLba,
  };
}
