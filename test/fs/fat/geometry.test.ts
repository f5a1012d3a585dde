import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFat, computeFatGeometry, type FatType } from '../../../src/fs/fat/index.js';
import { BOOT_CODE_OFFSET_16, BOOT_CODE_OFFSET_32 } from '../../../src/fs/fat/boot-sector.js';
import { dir } from '../../../src/fs/tree.js';
import { run, runOk, tempDir } from '../../helpers/run.js';
import { fsckClean, META, readImageRange, writeImage } from './fat-tools.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

interface Case {
  readonly size: number;
  readonly fatType?: FatType;
  readonly hidden?: number;
}

function readSector0(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(512);
    readSync(fd, b, 0, 512, 0);
    return b;
  } finally {
    closeSync(fd);
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)/g, '$1 ').trim();
}

/**
 * Formats a file of the same size with mkfs.fat -C and ours from an empty tree, then
 * compares the BIOS parameter block byte for byte (everything from byte 11 to the boot
 * code: geometry, type, serial, label) and fsck.fat's reading of both.
 */
function compareWithMkfs(dirPath: string, c: Case): void {
  const name = `${c.size}-${c.fatType ?? 'auto'}-${c.hidden ?? 0}`;
  const reference = join(dirPath, `${name}.mkfs.img`);
  const ours = join(dirPath, `${name}.ours.img`);
  const args = ['-C', '-i', '2a3b4c5d', '-n', 'ESP'];
  if (c.fatType !== undefined) args.push('-F', String(c.fatType));
  if (c.hidden !== undefined) args.push('-h', String(c.hidden));
  if (c.size % KiB === 0) {
    runOk('mkfs.fat', [...args, reference, String(c.size / KiB)]);
  } else {
    // -C takes whole KiB; an odd number of sectors needs an existing file of that size.
    writeFileSync(reference, '');
    truncateSync(reference, c.size);
    runOk('mkfs.fat', [...args.filter((a) => a !== '-C'), reference]);
  }
  const image = buildFat(dir(META), {
    sizeBytes: c.size, label: 'ESP', volumeId: 0x2a3b4c5d,
    ...(c.fatType === undefined ? {} : { fatType: c.fatType }),
    ...(c.hidden === undefined ? {} : { hiddenSectors: c.hidden }),
  });
  const expected = readSector0(reference);
  const actual = readImageRange(image, 0, 512);
  const isFat32 = expected[22] === 0 && expected[23] === 0;
  const end = isFat32 ? BOOT_CODE_OFFSET_32 : BOOT_CODE_OFFSET_16;
  assert.equal(hex(actual.subarray(11, end)), hex(expected.subarray(11, end)), `BPB of ${name} (bytes 11..${end})`);
  assert.deepEqual(actual.subarray(0, 3), expected.subarray(0, 3), `jump of ${name}`);
  assert.deepEqual(actual.subarray(510), expected.subarray(510), `signature of ${name}`);
  if (c.size <= 2 * GiB) {
    writeImage(image, ours);
    const dump = (path: string): string[] => fsckClean(path).dump.filter((l) => !l.startsWith('System ID'));
    assert.deepEqual(dump(ours), dump(reference), `fsck.fat reading of ${name}`);
  }
}

test('the boot sector geometry matches mkfs.fat -C for the ESP sizes and a 2880 KiB floppy', () => {
  const t = tempDir('fat-geometry');
  try {
    for (const size of [32 * MiB, 100 * MiB, 249 * MiB, 300 * MiB, 600 * MiB, GiB, 2880 * KiB]) {
      compareWithMkfs(t.path, { size });
    }
  } finally {
    t.remove();
  }
});

test('the boot sector geometry matches mkfs.fat -C across a sweep of sizes, floppies and thresholds', () => {
  const t = tempDir('fat-sweep');
  try {
    const sizes = [
      360 * KiB, 720 * KiB, 1200 * KiB, 1440 * KiB, 1 * MiB, 2 * MiB, 4 * MiB, 4 * MiB + KiB, 5 * MiB, 8 * MiB,
      16 * MiB, 16 * MiB + KiB, 33 * MiB, 64 * MiB, 100 * MiB + 3 * KiB, 128 * MiB, 255 * MiB, 256 * MiB,
      256 * MiB + KiB, 257 * MiB, 260 * MiB, 261 * MiB, 511 * MiB, 512 * MiB - KiB, 512 * MiB, 513 * MiB,
      2 * GiB, 8 * GiB + MiB, 16 * GiB + MiB, 32 * GiB + MiB,
      // Odd sector counts.
      100 * MiB + 512, 64 * MiB + 7 * 512, 700 * MiB + 3 * 512,
    ];
    // Deterministic pseudo-random sizes between 1 MiB and 4 GiB, in whole KiB.
    let x = 12345;
    for (let i = 0; i < 24; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      sizes.push(MiB + (x % (4 * MiB)) * KiB);
    }
    for (const size of sizes) compareWithMkfs(t.path, { size });
  } finally {
    t.remove();
  }
});

test('an explicit FAT type matches mkfs.fat -F', () => {
  const t = tempDir('fat-forced');
  try {
    for (const c of [
      { size: 100 * MiB, fatType: 32 }, { size: 300 * MiB, fatType: 32 }, { size: 600 * MiB, fatType: 16 },
      { size: 8 * MiB, fatType: 12 }, { size: 2880 * KiB, fatType: 12 }, { size: 64 * MiB, fatType: 16 },
    ] as const) {
      // FAT32 below 65525 clusters is legal when asked for, but fsck.fat warns about it.
      if (c.size === 100 * MiB) {
        const reference = join(t.path, 'small32.img');
        runOk('mkfs.fat', ['-C', '-F', '32', '-i', '1', reference, String(c.size / KiB)]);
        const ours = buildFat(dir(META), { sizeBytes: c.size, label: '', volumeId: 1, fatType: 32 });
        assert.equal(hex(readImageRange(ours, 11, 79)), hex(readSector0(reference).subarray(11, 90)));
        continue;
      }
      compareWithMkfs(t.path, c);
    }
  } finally {
    t.remove();
  }
});

test('hidden sectors are recorded like mkfs.fat -h', () => {
  const t = tempDir('fat-hidden');
  try {
    compareWithMkfs(t.path, { size: 249 * MiB, hidden: 2048 });
    compareWithMkfs(t.path, { size: GiB, hidden: 34 });
  } finally {
    t.remove();
  }
});

test('sizes mkfs.fat refuses are refused', () => {
  const t = tempDir('fat-refused');
  try {
    for (const c of [{ size: 32 * KiB }, { size: 2880 * KiB, fatType: 16 }, { size: 600 * MiB, fatType: 12 }] as const) {
      const args = ['-C', ...('fatType' in c ? ['-F', String(c.fatType)] : []), join(t.path, `${c.size}.img`), String(c.size / KiB)];
      assert.notEqual(run('mkfs.fat', args).status, 0, `mkfs.fat ${args.join(' ')} should fail`);
      assert.throws(() => computeFatGeometry(c.size, 'fatType' in c ? c.fatType : undefined), { code: 'fat.geometry' });
    }
    assert.throws(() => computeFatGeometry(1000), { code: 'fat.size-invalid' });
    assert.throws(() => computeFatGeometry(0), { code: 'fat.size-invalid' });
  } finally {
    t.remove();
  }
});

test('the nixpkgs default ESP of 249 MiB is FAT16 with 4 KiB clusters', () => {
  const g = computeFatGeometry(249 * MiB);
  assert.equal(g.fatType, 16);
  assert.equal(g.clusterBytes, 4096);
  assert.equal(g.dataOffset % g.clusterBytes, 0);
});
