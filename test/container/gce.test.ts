import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { bytesSegment, imageFromSegments } from '../../src/core/block-image.js';
import { outputFileSink } from '../../src/core/sink.js';
import { TarWriter } from '../../src/archive/tar.js';
import { writeGceTarball } from '../../src/container/gce.js';
import { writeRaw } from '../../src/container/raw.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { randomImage, readAt, seededBytes, sha256File, textBytes, writeTo } from './fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;

test('a GCE tarball holds only disk.raw, a GNU sparse member that tar -xzS, Python and gzip read back', async () => {
  const dir = tempDir('gce');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(5, 3 * MiB));
    const base = randomImage(1, 40 * MiB + 512, 25, 2 * MiB);
    const image = imageFromSegments(base.size + 8 * MiB, [
      ...base.segments(),
      { offset: base.size + MiB + 5, length: 3 * MiB, source: { kind: 'file', path: file, offset: 0 } },
    ]);
    const raw = await writeTo(join(dir.path, 'disk.raw'), (out) => writeRaw(image, out));
    const gce = await writeTo(join(dir.path, 'nixos.raw.tar.gz'), (out) => writeGceTarball(image, out, { epoch: 1_700_000_000 }));

    runOk('gzip', ['-t', gce]);
    const listing = runOk('tar', ['-tzvf', gce]).stdout;
    assert.match(listing, new RegExp(`^-rw-r--r-- 0/0 +${image.size} 2023-11-1\\d \\d\\d:\\d\\d disk\\.raw\\n$`));
    const x = join(dir.path, 'x');
    mkdirSync(x);
    runOk('tar', ['-xzSf', gce, '-C', x]);
    assert.equal(run('cmp', [raw, join(x, 'disk.raw')]).status, 0, 'extraction equals the raw image');
    assert.ok(statSync(join(x, 'disk.raw')).blocks * 512 < image.size * 0.75, 'the extracted file is sparse');

    const python = JSON.parse(runOk('python3', ['-c', [
      'import hashlib, json, sys, tarfile',
      't = tarfile.open(sys.argv[1], "r:gz")',
      'm = t.getmembers()',
      'print(json.dumps({"names": [x.name for x in m], "sparse": m[0].issparse(), "size": m[0].size,',
      '  "sha": hashlib.sha256(t.extractfile(m[0]).read()).hexdigest()}))',
    ].join('\n'), gce]).stdout) as { names: string[]; sparse: boolean; size: number; sha: string };
    assert.deepEqual(python, { names: ['disk.raw'], sparse: true, size: image.size, sha: sha256File(raw) });

    // The gzip stream carries exactly the tar the tar writer produces on its own.
    const plain = await writeTo(join(dir.path, 'plain.tar'), async (out) => {
      const tar = new TarWriter(outputFileSink(out), { mtime: 1_700_000_000, format: 'gnu' });
      await tar.addSparseImage('disk.raw', image);
      await tar.finish();
    });
    assert.ok(gunzipSync(readFileSync(gce)).equals(readFileSync(plain)));
  } finally {
    dir.remove();
  }
});

test('a 16 GiB sparse disk compresses to a small tarball that extracts sparse', async () => {
  const dir = tempDir('gce');
  try {
    const size = 16 * GiB;
    const image = imageFromSegments(size, [
      bytesSegment(0, seededBytes(11, MiB)),
      bytesSegment(9 * GiB + 3, textBytes(5 * MiB, 'nix store ')),
      bytesSegment(size - 512, seededBytes(12, 512)),
    ]);
    const gce = await writeTo(join(dir.path, 'big.raw.tar.gz'), (out) => writeGceTarball(image, out, { epoch: 1 }));
    assert.ok(statSync(gce).size < 3 * MiB, `${statSync(gce).size} bytes`);
    assert.match(runOk('tar', ['-tzvf', gce]).stdout, / 17179869184 .* disk\.raw\n$/);
    const x = join(dir.path, 'x');
    mkdirSync(x);
    runOk('tar', ['-xzSf', gce, '-C', x]);
    const extracted = join(x, 'disk.raw');
    assert.equal(statSync(extracted).size, size);
    assert.ok(statSync(extracted).blocks * 512 < 16 * MiB);
    assert.deepEqual(readAt(extracted, size - 512, 512), seededBytes(12, 512));
  } finally {
    dir.remove();
  }
});

test('the gzip level changes only the compression, not the tar inside', async () => {
  const dir = tempDir('gce');
  try {
    const image = imageFromSegments(48 * MiB, Array.from({ length: 48 }, (_, i) =>
      bytesSegment(i * MiB + 100, i % 2 === 0 ? textBytes(700 * KiB, `gce ${i} `) : seededBytes(i, 700 * KiB))));
    const a = await writeTo(join(dir.path, 'a.tar.gz'), (out) => writeGceTarball(image, out, { epoch: 3 }));
    const fast = await writeTo(join(dir.path, 'c.tar.gz'), (out) => writeGceTarball(image, out, { epoch: 3, compressionLevel: 1 }));
    assert.ok(gunzipSync(readFileSync(fast)).equals(gunzipSync(readFileSync(a))), 'the level changes only the compression');
    assert.notEqual(sha256File(fast), sha256File(a), 'level 1 and level 6 compress differently');
  } finally {
    dir.remove();
  }
});
