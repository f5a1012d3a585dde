/**
 * An output's SHA-256 equals sha256sum's of the finished file, whatever the write order;
 * writers that go in order (streams, raw and fixed VHD with their zero windows declared)
 * are hashed with nothing read back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OutputFile } from '../../src/core/output-file.js';
import type { FileDigest } from '../../src/core/file-digest.js';
import { outputFileSink } from '../../src/core/sink.js';
import { gzipSink } from '../../src/compress/gzip.js';
import { writeGceTarball } from '../../src/container/gce.js';
import { writeOva } from '../../src/container/ova.js';
import { writeQcow2 } from '../../src/container/qcow2.js';
import { writeRaw, writeRawStream } from '../../src/container/raw.js';
import { writeVagrantBox } from '../../src/container/vagrant-box.js';
import { writeVhd } from '../../src/container/vhd.js';
import { writeVhdx } from '../../src/container/vhdx.js';
import { writeVmdk } from '../../src/container/vmdk.js';
import { randomImage, seededBytes } from '../container/fixtures.js';
import { runOk, tempDir } from '../helpers/run.js';

const MiB = 1 << 20;

function sha256sum(path: string): string {
  return runOk('sha256sum', [path]).stdout.split(' ')[0]!;
}

/** Writes through `write`, takes the digest, commits, and checks it against sha256sum and the file's length. */
async function digestOf(path: string, write: (out: OutputFile) => Promise<void> | void): Promise<FileDigest> {
  const out = OutputFile.create(path, { sha256: true });
  try {
    await write(out);
    const digest = await out.sha256();
    out.commit();
    assert.equal(digest.sha256, sha256sum(path), path);
    assert.equal(digest.size, Number(runOk('stat', ['-c', '%s', path]).stdout.trim()), path);
    return digest;
  } catch (error) {
    out.abort();
    throw error;
  }
}

test('writes in file order are hashed in passing, nothing read back', async () => {
  const tmp = tempDir('digest-order');
  try {
    const digest = await digestOf(join(tmp.path, 'in-order'), (out) => {
      out.writeAt(0, seededBytes(1, 1000));
      out.writeAt(1000, seededBytes(2, 3 * MiB));
      out.writeAt(1000 + 3 * MiB, seededBytes(3, 17));
    });
    assert.equal(digest.readBack, 0);
  } finally {
    tmp.remove();
  }
});

test('long in-order writes mixed with declared zeros are hashed on the worker in order', async () => {
  const tmp = tempDir('digest-long');
  try {
    const digest = await digestOf(join(tmp.path, 'long'), (out) => {
      let at = 0;
      for (let i = 0; i < 40; i++) {
        const bytes = seededBytes(100 + i, MiB - i);
        out.writeAt(at, bytes);
        at += bytes.length;
        if (i % 7 === 3) {
          out.skipZeros(at, 3 * MiB + i);
          at += 3 * MiB + i;
        }
      }
      out.truncate(at);
    });
    assert.equal(digest.readBack, 0);
    assert.ok(digest.size > 40 * MiB);
  } finally {
    tmp.remove();
  }
});

test('an output abandoned while its ranges are being hashed leaves nothing behind and fails nothing', async () => {
  const tmp = tempDir('digest-abandoned');
  try {
    const path = join(tmp.path, 'abandoned');
    const out = OutputFile.create(path, { sha256: true });
    for (let i = 0; i < 32; i++) out.writeAt(i * MiB, seededBytes(200 + i, MiB));
    out.abort();
    assert.deepEqual(readdirSync(tmp.path), []);
    // Jobs the worker still had fail on the closed file; none may surface.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await digestOf(path, (next) => next.writeAt(0, seededBytes(300, 20 * MiB)));
    assert.equal(again.readBack, 0);
  } finally {
    tmp.remove();
  }
});

test('a header written last, a patch of hashed bytes and a hole are read back from where order broke', async () => {
  const tmp = tempDir('digest-disorder');
  try {
    const headerLast = await digestOf(join(tmp.path, 'header-last'), (out) => {
      out.writeAt(4096, seededBytes(4, MiB));
      out.writeAt(0, seededBytes(5, 100));
    });
    assert.equal(headerLast.readBack, 4096 + MiB - 100);
    const patched = await digestOf(join(tmp.path, 'patched'), (out) => {
      out.writeAt(0, seededBytes(6, MiB));
      out.writeAt(500, seededBytes(7, 10));
    });
    assert.equal(patched.readBack, MiB);
    const hole = await digestOf(join(tmp.path, 'hole'), (out) => {
      out.writeAt(0, seededBytes(8, 10));
      out.writeAt(MiB, seededBytes(9, 10));
      out.truncate(3 * MiB);
    });
    assert.equal(hole.readBack, 3 * MiB - 10);
  } finally {
    tmp.remove();
  }
});

test('declared zeros are hashed in passing, but never over written bytes or past the end of the file', async () => {
  const tmp = tempDir('digest-zeros');
  try {
    const declared = await digestOf(join(tmp.path, 'declared'), (out) => {
      out.writeAt(0, seededBytes(10, 10));
      out.skipZeros(10, MiB);
      out.writeAt(MiB + 10, seededBytes(11, 10));
      out.skipZeros(MiB + 20, 2 * MiB);
      out.truncate(3 * MiB + 20);
    });
    assert.equal(declared.readBack, 0);
    // Zeros declared over bytes written earlier further on: those bytes are read back.
    const overWritten = await digestOf(join(tmp.path, 'over-written'), (out) => {
      out.writeAt(100, seededBytes(12, 10));
      out.skipZeros(0, 200);
      out.truncate(200);
    });
    assert.equal(overWritten.readBack, 200);
    // Zeros declared at the end but never made part of the file (no truncate).
    const short = await digestOf(join(tmp.path, 'short'), (out) => {
      out.writeAt(0, seededBytes(13, 10));
      out.skipZeros(10, 1000);
    });
    assert.equal(short.size, 10);
    // Truncating below what was hashed.
    const cut = await digestOf(join(tmp.path, 'cut'), (out) => {
      out.writeAt(0, seededBytes(14, 1000));
      out.truncate(10);
    });
    assert.equal(cut.size, 10);
  } finally {
    tmp.remove();
  }
});

test('real writers: raw, fixed VHD and the streams hash in passing; qcow2, dynamic VHD, VHDX, sparse VMDK and OVA read back', async () => {
  const tmp = tempDir('digest-writers');
  try {
    // Segments in a few windows only, so readWindows skips most of the image.
    const image = randomImage(21, 64 * MiB, 6, 200_000);
    const file = (name: string): string => join(tmp.path, name);
    assert.equal((await digestOf(file('raw.img'), (out) => writeRaw(image, out))).readBack, 0);
    assert.equal((await digestOf(file('fixed.vhd'), (out) => writeVhd(image, out, { subformat: 'fixed', seed: 's', epoch: 1 }))).readBack, 0);
    assert.equal((await digestOf(file('raw.img.gz'), async (out) => {
      const gzip = gzipSink(outputFileSink(out), { level: 1 });
      await writeRawStream(image, gzip);
      await gzip.close();
    })).readBack, 0);
    assert.equal((await digestOf(file('stream.vmdk'), (out) => writeVmdk(image, out, { subformat: 'streamOptimized', seed: 's' }))).readBack, 0);
    assert.equal((await digestOf(file('disk.raw.tar.gz'), (out) => writeGceTarball(image, out, { epoch: 1 }))).readBack, 0);
    assert.equal((await digestOf(file('nixos.box'), (out) => writeVagrantBox(image, out, { seed: 's', epoch: 1 }))).readBack, 0);
    for (const [name, write] of [
      ['image.qcow2', (out: OutputFile) => writeQcow2(image, out)],
      ['dynamic.vhd', (out: OutputFile) => writeVhd(image, out, { subformat: 'dynamic', seed: 's', epoch: 1 })],
      ['image.vhdx', (out: OutputFile) => writeVhdx(image, out, { seed: 's' })],
      ['sparse.vmdk', (out: OutputFile) => writeVmdk(image, out, { subformat: 'monolithicSparse', seed: 's' })],
      // The OVF and the disk's header are filled in after the disk is written.
      ['nixos.ova', (out: OutputFile) => writeOva(image, out, { seed: 's', epoch: 1 })],
    ] as const) {
      const digest = await digestOf(file(name), write);
      assert.ok(digest.readBack > 0 && digest.readBack <= digest.size, `${name}: ${digest.readBack} of ${digest.size}`);
    }
  } finally {
    tmp.remove();
  }
});
