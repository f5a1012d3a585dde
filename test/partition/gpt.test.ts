import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageFromSegments, readAll } from '../../src/core/block-image.js';
import { gptSegments } from '../../src/partition/gpt.js';
import { GPT_TYPE } from '../../src/partition/types.js';
import { run, runOk, tempDir } from '../helpers/run.js';

const MIB = 1 << 20;

function diskWith(totalSectors: number): Uint8Array {
  const segments = gptSegments({
    totalSectors,
    diskGuid: '97FD5997-F390-0B4A-A3F8-D106C1723AEA',
    partitions: [
      { name: 'ESP', typeGuid: GPT_TYPE.esp, guid: '1C06F03B-704E-4657-B9CD-681A087A2FDC', firstLba: 16384, lastLba: 526335 },
      { name: 'primary', typeGuid: GPT_TYPE.linux, guid: 'F222513B-DED1-49FA-B591-20CE86A2FE7F', firstLba: 526336, lastLba: totalSectors - 2049 },
    ],
  });
  return readAll(imageFromSegments(totalSectors * 512, segments));
}

test('GPT disk is clean for sgdisk, fdisk and sfdisk, with the intended partitions', () => {
  const tmp = tempDir('gpt');
  try {
    const image = join(tmp.path, 'disk.img');
    const sectors = (512 * MIB) / 512;
    writeFileSync(image, diskWith(sectors));
    const verify = runOk('sgdisk', ['-v', image]).stdout;
    assert.match(verify, /No problems found/);
    assert.doesNotMatch(verify, /Warning|ERROR|Caution|corrupt/i);
    const fdisk = runOk('fdisk', ['-l', image]).stdout;
    assert.match(fdisk, /Disklabel type: gpt/);
    assert.match(fdisk, /Disk identifier: 97FD5997-F390-0B4A-A3F8-D106C1723AEA/);
    assert.doesNotMatch(fdisk, /corrupt/i);
    const table = JSON.parse(runOk('sfdisk', ['--json', image]).stdout).partitiontable;
    assert.equal(table.label, 'gpt');
    assert.equal(table.firstlba, 34);
    assert.equal(table.lastlba, sectors - 34);
    assert.deepEqual(table.partitions.map((p: Record<string, unknown>) => [p['start'], p['size'], p['type'], p['uuid'], p['name']]), [
      [16384, 526336 - 16384, GPT_TYPE.esp, '1C06F03B-704E-4657-B9CD-681A087A2FDC', 'ESP'],
      [526336, sectors - 2048 - 526336, GPT_TYPE.linux, 'F222513B-DED1-49FA-B591-20CE86A2FE7F', 'primary'],
    ]);
    assert.match(run('sfdisk', ['--verify', image]).stdout, /No errors detected/);
  } finally {
    tmp.remove();
  }
});

test('protective MBR has one 0xEE entry from LBA 1 over the whole disk', () => {
  const disk = diskWith(1 << 20);
  const view = new DataView(disk.buffer);
  assert.equal(disk[446 + 4], 0xee);
  assert.equal(view.getUint32(446 + 8, true), 1);
  assert.equal(view.getUint32(446 + 12, true), (1 << 20) - 1);
  assert.equal(disk[510], 0x55);
  assert.equal(disk[511], 0xaa);
  for (let i = 1; i < 4; i++) assert.equal(disk[446 + 16 * i + 4], 0);
});

test('overlapping or out-of-range partitions are refused with their LBAs', () => {
  assert.throws(() => gptSegments({
    totalSectors: 100000,
    diskGuid: '97FD5997-F390-0B4A-A3F8-D106C1723AEA',
    partitions: [
      { name: 'a', typeGuid: GPT_TYPE.linux, guid: '1C06F03B-704E-4657-B9CD-681A087A2FDC', firstLba: 2048, lastLba: 5000 },
      { name: 'b', typeGuid: GPT_TYPE.linux, guid: '1C06F03B-704E-4657-B9CD-681A087A2FDD', firstLba: 4096, lastLba: 8000 },
    ],
  }), /partition "a" ends at LBA 5000/);
  assert.throws(() => gptSegments({
    totalSectors: 10000,
    diskGuid: '97FD5997-F390-0B4A-A3F8-D106C1723AEA',
    partitions: [{ name: 'a', typeGuid: GPT_TYPE.linux, guid: '1C06F03B-704E-4657-B9CD-681A087A2FDC', firstLba: 2048, lastLba: 9999 }],
  }), /usable LBAs are 34-9966/);
});
