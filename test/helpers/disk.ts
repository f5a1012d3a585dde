/** Reading partitions out of disk images for the reference tools, which want plain files. */
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { runOk } from './run.js';

const CHUNK = 1 << 20;

/** Copies bytes [offset, offset + length) of `image` to `dest`, leaving zero chunks as holes. */
export function extractRange(image: string, offset: number, length: number, dest: string): void {
  const input = openSync(image, 'r');
  const output = openSync(dest, 'w');
  const buffer = Buffer.alloc(CHUNK);
  const zero = Buffer.alloc(CHUNK);
  try {
    for (let done = 0; done < length; done += CHUNK) {
      const take = Math.min(CHUNK, length - done);
      const n = readSync(input, buffer, 0, take, offset + done);
      if (n !== take) throw new Error(`short read from ${image} at ${offset + done}`);
      if (buffer.compare(zero, 0, take, 0, take) !== 0) writeSync(output, buffer, 0, take, done);
    }
    ftruncateSync(output, length);
  } finally {
    closeSync(input);
    closeSync(output);
  }
}

export interface PartitionInfo {
  readonly name: string;
  readonly start: number;
  readonly size: number;
  readonly type: string;
  readonly uuid: string;
  /** The MBR active flag. */
  readonly bootable: boolean;
}

interface SfdiskTable {
  readonly id: string;
  readonly partitions: readonly { start: number; size: number; type: string; uuid: string; name: string; bootable?: boolean }[];
}

function sfdiskTable(image: string): SfdiskTable {
  return JSON.parse(runOk('sfdisk', ['--json', image]).stdout).partitiontable as SfdiskTable;
}

/** The partition table as sfdisk reads it, in bytes. */
export function partitions(image: string): PartitionInfo[] {
  return sfdiskTable(image).partitions.map((p) => ({ name: p.name, start: p.start * 512, size: p.size * 512, type: p.type, uuid: p.uuid, bootable: p.bootable === true }));
}

/** The disk's identifier as sfdisk shows it: the GPT disk GUID, or the MBR signature ("0x2178694e"). */
export function diskId(image: string): string {
  return sfdiskTable(image).id;
}
