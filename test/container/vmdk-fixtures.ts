/** VMDK checks shared by the VMDK, OVA and Vagrant box tests: qemu-img, vmdkinfo, and a stream walker. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { isAllZero, readWindows, type BlockImage } from '../../src/core/block-image.js';
import { run, runOk } from '../helpers/run.js';

export type Subformat = 'monolithicSparse' | 'streamOptimized';

/** qemu-img check clean, qemu-img info and vmdkinfo agree on the virtual size and subformat. */
export function assertCleanVmdk(path: string, virtualSize: number, subformat: Subformat): void {
  const check = run('qemu-img', ['check', '-f', 'vmdk', path]);
  assert.equal(check.status, 0, `qemu-img check exited ${check.status}\n${check.stdout}\n${check.stderr}`);
  assert.match(check.stdout, /No errors were found on the image\./);
  const info = JSON.parse(runOk('qemu-img', ['info', '--output=json', path]).stdout) as Record<string, unknown>;
  assert.equal(info['format'], 'vmdk', 'qemu-img probes the file as vmdk');
  assert.equal(info['virtual-size'], virtualSize);
  const specific = info['format-specific'] as { data: Record<string, unknown> };
  assert.equal(specific.data['create-type'], subformat);
  assert.equal(specific.data['parent-cid'], 0xffffffff);
  const vmdkinfo = runOk('vmdkinfo', [path]).stdout;
  assert.match(vmdkinfo, new RegExp(`Disk type:\\s+${subformat === 'streamOptimized' ? 'Stream optimized' : 'Monolithic sparse'}`));
  assert.match(vmdkinfo, new RegExp(`Media size:\\s+.*\\(${virtualSize} bytes\\)`));
}

export function assertVmdkEqualsRaw(rawPath: string, vmdkPath: string): void {
  const result = run('qemu-img', ['compare', '-f', 'raw', '-F', 'vmdk', rawPath, vmdkPath]);
  assert.equal(result.status, 0, `qemu-img compare exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /Images are identical\./);
}

export interface StreamLayout {
  readonly grains: number;
  readonly tables: number;
  readonly gdOffset: number;
}

/**
 * Walks a streamOptimized file marker by marker (format-specs §4.3) and checks every
 * structure: header, grains in ascending LBA order inflating to whole grains equal to the
 * image, GT and GD markers and tables, the footer and the end-of-stream sector.
 */
export function walkStreamOptimized(path: string, image: BlockImage): StreamLayout {
  const file = readFileSync(path);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  assert.equal(file.length % 512, 0);
  const u64 = (at: number): number => Number(view.getBigUint64(at, true));
  const u32 = (at: number): number => view.getUint32(at, true);
  assert.equal(file.subarray(0, 4).toString('latin1'), 'KDMV');
  assert.equal(u32(4), 3, 'version 3');
  assert.equal(u32(8), 0x30001, 'flags: newline test, compressed grains, markers');
  const capacity = u64(12);
  assert.equal(capacity, Math.ceil(image.size / 512));
  assert.equal(u64(20), 128);
  assert.equal(u64(28), 1);
  assert.equal(u64(36), 20);
  assert.equal(u32(44), 512);
  assert.equal(view.getBigUint64(56, true), 2n ** 64n - 1n, 'gdOffset = GD_AT_END in the header');
  const overHead = u64(64);
  assert.equal(overHead, 128);
  assert.deepEqual([...file.subarray(73, 79)], [0x0a, 0x20, 0x0d, 0x0a, 1, 0]);
  const descriptor = file.subarray(512, 512 * 21).toString('latin1').replace(/\0+$/, '');
  assert.match(descriptor, /createType="streamOptimized"/);
  assert.match(descriptor, new RegExp(`\\nRW ${capacity} SPARSE "`));

  // The image's non-zero grains (sparse images stay small in memory).
  const expected = new Map<number, Uint8Array>();
  for (const w of readWindows(image, 65536)) if (!isAllZero(w.data)) expected.set(w.index, w.data.slice());
  const seen = new Set<number>();
  const grainTables = new Map<number, number>(); // GT sector -> number of entries checked
  const grainAt = new Map<number, number>(); // marker sector -> grain index
  let sector = overHead;
  let lastGrain = -1;
  let grains = 0;
  let tables = 0;
  let gdOffset = -1;
  for (;;) {
    const at = sector * 512;
    const value = u64(at);
    const size = u32(at + 8);
    const type = u32(at + 12);
    if (size > 0) {
      assert.equal(value % 128, 0, 'grain LBA is grain-aligned');
      const index = value / 128;
      assert.ok(index > lastGrain, 'grains in ascending order');
      lastGrain = index;
      const grain = inflateSync(file.subarray(at + 12, at + 12 + size));
      assert.equal(grain.length, 65536, 'every grain inflates to 64 KiB');
      const want = expected.get(index);
      assert.ok(want !== undefined, `grain ${index} holds data in the image`);
      assert.ok(grain.equals(want), `grain ${index} content`);
      seen.add(index);
      assert.deepEqual([...file.subarray(at + 12 + size, Math.ceil((12 + size) / 512) * 512 + at)].filter((b) => b !== 0), [], 'zero padding');
      grainAt.set(sector, index);
      grains++;
      sector += Math.ceil((12 + size) / 512);
      continue;
    }
    if (value === 0 && type === 0) {
      assert.equal(at + 512, file.length, 'the end-of-stream sector ends the file');
      assert.ok(file.subarray(at, at + 512).every((b) => b === 0));
      break;
    }
    assert.ok(file.subarray(at + 16, at + 512).every((b) => b === 0), 'marker sector padding');
    if (type === 1) {
      assert.equal(value, 4);
      grainTables.set(sector + 1, 0);
      for (let e = 0; e < 512; e++) {
        const entry = u32((sector + 1) * 512 + e * 4);
        if (entry !== 0) assert.equal(grainAt.get(entry) !== undefined, true, `GT entry ${e} points at a grain marker`);
      }
      tables++;
      sector += 1 + 4;
    } else if (type === 2) {
      gdOffset = sector + 1;
      const gdSectors = Math.ceil((Math.ceil(Math.ceil(capacity / 128) / 512) * 4) / 512);
      assert.equal(value, gdSectors);
      for (let t = 0; t < Math.ceil(Math.ceil(capacity / 128) / 512); t++) {
        const entry = u32(gdOffset * 512 + t * 4);
        if (entry !== 0) assert.ok(grainTables.has(entry), `GD entry ${t} points at a grain table`);
      }
      sector += 1 + value;
    } else if (type === 3) {
      assert.equal(value, 1);
      const footer = file.subarray(at + 512, at + 1024);
      const expectedFooter = Buffer.from(file.subarray(0, 512));
      expectedFooter.writeBigUInt64LE(BigInt(gdOffset), 56);
      assert.deepEqual(footer, expectedFooter, 'the footer is the header with the real gdOffset');
      sector += 2;
    } else {
      assert.fail(`unexpected marker type ${type} at sector ${sector}`);
    }
  }
  assert.ok(gdOffset > 0, 'a grain directory was written');
  assert.equal(seen.size, expected.size, 'every non-zero grain of the image is stored');
  return { grains, tables, gdOffset };
}
