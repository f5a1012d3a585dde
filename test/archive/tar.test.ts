import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  bytesSegment, imageFromSegments, lazySegment, readAll, type BlockImage, type Segment,
} from '../../src/core/block-image.js';
import { ImageError } from '../../src/core/errors.js';
import { writeTo } from '../helpers/output.js';
import { OutputFile } from '../../src/core/output-file.js';
import { outputFileSink } from '../../src/core/sink.js';
import { decodeNumber, encodeHeader } from '../../src/archive/tar-header.js';
import { sparseRegions, TarWriter, type TarOptions } from '../../src/archive/tar.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { seededBytes, sha256File, textBytes } from '../container/fixtures.js';

const KiB = 1024;
const MiB = 1 << 20;
const GiB = 1 << 30;
const EPOCH = 1_700_000_000;

/** Writes an archive with `build` into `path` and returns the path. */
function archive(path: string, options: TarOptions, build: (tar: TarWriter) => Promise<void>): Promise<string> {
  return writeTo(path, async (out) => {
    const tar = new TarWriter(outputFileSink(out), options);
    await build(tar);
    await tar.finish();
  });
}

/** GNU tar with fixed owner and time, from `cwd`. */
function gnuTar(cwd: string, output: string, args: string[]): void {
  runOk('tar', ['--owner=0', '--group=0', '--numeric-owner', `--mtime=@${EPOCH}`, '-C', cwd, '-cf', output, ...args]);
}

/** Python's tarfile view: name, size, type, sparse map. */
function pythonMembers(path: string): { name: string; size: number; type: string; sparse: number[][] | null }[] {
  const script = [
    'import json, sys, tarfile',
    't = tarfile.open(sys.argv[1])',
    'print(json.dumps([{"name": m.name, "size": m.size, "type": m.type.decode(), "sparse": m.sparse} for m in t.getmembers()]))',
  ].join('\n');
  return JSON.parse(runOk('python3', ['-c', script, path]).stdout) as ReturnType<typeof pythonMembers>;
}

test('regular files and directories are byte-identical to GNU tar --format=ustar', async () => {
  const dir = tempDir('tar');
  try {
    const src = join(dir.path, 'src');
    const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    const files: [string, Uint8Array, number][] = [
      ['empty', new Uint8Array(0), 0o644],
      ['hello.txt', new TextEncoder().encode('hello\n'), 0o644],
      ['block', seededBytes(1, 512), 0o600],
      ['odd', seededBytes(2, 70_001), 0o755],
      [`${longDir}/${'f'.repeat(90)}`, textBytes(1000), 0o644], // 212 bytes: ustar prefix + name
    ];
    mkdirSync(join(src, longDir), { recursive: true });
    mkdirSync(join(src, 'sub'));
    for (const [name, bytes, mode] of files) {
      writeFileSync(join(src, name), bytes);
      chmodSync(join(src, name), mode);
    }
    chmodSync(join(src, 'sub'), 0o755);
    for (const d of ['sub', longDir.split('/')[0]!, longDir]) utimesSync(join(src, d), EPOCH, EPOCH);

    const ours = await archive(join(dir.path, 'ours.tar'), { mtime: EPOCH }, async (tar) => {
      await tar.addDirectory('sub');
      for (const [name, bytes, mode] of files) await tar.addFile(name, bytes, { mode });
    });
    const reference = join(dir.path, 'gnu.tar');
    gnuTar(src, reference, ['--format=ustar', '--no-recursion', 'sub', ...files.map(([name]) => name)]);
    assert.deepEqual(readFileSync(ours), readFileSync(reference));
    assert.equal(statSync(ours).size % 10240, 0, 'padded to the 10 KiB record, as GNU tar does');

    const listing = runOk('tar', ['-tvf', ours]).stdout.trim().split('\n');
    assert.equal(listing.length, 6);
    assert.match(listing[0]!, /^drwxr-xr-x 0\/0 +0 2023-11-1\d \d\d:\d\d sub\/$/);
    assert.match(listing[4]!, /^-rwxr-xr-x 0\/0 +70001 .* odd$/);
    const out = join(dir.path, 'out');
    mkdirSync(out);
    runOk('tar', ['-xf', ours, '-C', out]);
    for (const [name, bytes] of files) assert.deepEqual(readFileSync(join(out, name)), Buffer.from(bytes), name);
  } finally {
    dir.remove();
  }
});

test('owner names and the GNU header format match GNU tar --format=gnu', async () => {
  const dir = tempDir('tar');
  try {
    const src = join(dir.path, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a'), textBytes(3000));
    chmodSync(join(src, 'a'), 0o644);
    const ours = await archive(join(dir.path, 'ours.tar'), { mtime: EPOCH, format: 'gnu', uname: 'root', gname: 'root' }, (tar) => tar.addFile('a', textBytes(3000)));
    const reference = join(dir.path, 'gnu.tar');
    runOk('tar', ['--owner=root:0', '--group=root:0', `--mtime=@${EPOCH}`, '--format=gnu', '-C', src, '-cf', reference, 'a']);
    assert.deepEqual(readFileSync(ours), readFileSync(reference));
  } finally {
    dir.remove();
  }
});

test('streamed members are checked against their declared size', async () => {
  const dir = tempDir('tar');
  try {
    const path = await archive(join(dir.path, 'ok.tar'), { mtime: EPOCH }, async (tar) => {
      await tar.addStream('streamed', 3 * MiB + 5, async (member) => {
        for (let i = 0; i < 3; i++) await member.write(textBytes(MiB, `part ${i} `));
        await member.write(Uint8Array.of(1, 2, 3, 4, 5));
      });
    });
    assert.match(runOk('tar', ['-tvf', path]).stdout, / 3145733 .* streamed\n$/);
    for (const [label, produce] of [
      ['short', async (m: { write(d: Uint8Array): Promise<void> }) => m.write(new Uint8Array(99))],
      ['long', async (m: { write(d: Uint8Array): Promise<void> }) => m.write(new Uint8Array(101))],
    ] as const) {
      await assert.rejects(
        archive(join(dir.path, `${label}.tar`), { mtime: EPOCH }, (tar) => tar.addStream('x', 100, produce)),
        (e: unknown) => e instanceof ImageError && e.code === 'tar.size-mismatch',
        label,
      );
    }
  } finally {
    dir.remove();
  }
});

test('a deferred member gets its size in the patched header', async () => {
  const dir = tempDir('tar');
  try {
    const path = join(dir.path, 'deferred.tar');
    const out = OutputFile.create(path);
    const tar = new TarWriter(outputFileSink(out), { mtime: EPOCH });
    await tar.addFile('first', textBytes(10));
    const deferred = await tar.addDeferred('later', async (member) => {
      await member.write(textBytes(5000, 'later '));
      await member.write(textBytes(17));
    });
    await tar.addFile('last', textBytes(3));
    await tar.finish();
    assert.equal(deferred.size, 5017);
    assert.equal(deferred.headerOffset, 1024);
    assert.equal(deferred.dataOffset, 1536);
    out.writeAt(deferred.headerOffset, deferred.header);
    out.commit();
    assert.deepEqual(pythonMembers(path).map((m) => [m.name, m.size]), [['first', 10], ['later', 5017], ['last', 3]]);
    const extracted = runOk('tar', ['-xOf', path, 'later']).stdout;
    assert.equal(extracted.length, 5017);
  } finally {
    dir.remove();
  }
});

test('sizes of 8 GiB and more use base-256, which GNU tar and Python read', () => {
  const dir = tempDir('tar');
  try {
    const size = 9 * GiB + 7;
    const header = encodeHeader({ name: 'huge', mode: 0o644, size, mtime: EPOCH, typeflag: '0', uname: '', gname: '', format: 'ustar' });
    assert.equal(header[124], 0x80);
    assert.equal(decodeNumber(header, 124, 12), size);
    const path = join(dir.path, 'huge.tar');
    const fd = openSync(path, 'w');
    writeSync(fd, header);
    closeSync(fd);
    truncateSync(path, 512 + Math.ceil(size / 512) * 512 + 1024); // data and end blocks as holes
    assert.match(runOk('tar', ['-tvf', path]).stdout, / 9663676423 .* huge\n$/);
    assert.deepEqual(pythonMembers(path).map((m) => m.size), [size]);
  } finally {
    dir.remove();
  }
});

/** Segments of non-zero data at 4 KiB-aligned offsets, so GNU tar -S sees the same map from the extracted file. */
function alignedImage(size: number, places: readonly [number, number][]): BlockImage {
  return imageFromSegments(size, places.map(([offset, length], i) => bytesSegment(offset, seededBytes(100 + i, length).map((b) => b | 1))));
}

/** Extracts `member` of `path` with GNU tar -S into `dir` and returns the file path. */
function extractSparse(path: string, dir: string, gzip = false): string {
  mkdirSync(dir, { recursive: true });
  runOk('tar', [gzip ? '-xzSf' : '-xSf', path, '-C', dir]);
  return dir;
}

test('a sparse member equals what GNU tar --format=gnu -S writes for the extracted file, with extension blocks', async () => {
  const dir = tempDir('tar');
  try {
    const places: [number, number][] = Array.from({ length: 30 }, (_, i) => [i * 256 * KiB + (i % 3) * 4096, 4096 * (1 + (i % 4))]);
    const image = alignedImage(8 * MiB, places);
    const ours = await archive(join(dir.path, 'ours.tar'), { mtime: EPOCH, format: 'gnu' }, (tar) => tar.addSparseImage('disk.raw', image));
    const x = extractSparse(ours, join(dir.path, 'x'));
    const extracted = join(x, 'disk.raw');
    assert.deepEqual(readFileSync(extracted), Buffer.from(readAll(image)));
    assert.ok(statSync(extracted).blocks * 512 < 2 * MiB, 'the extracted file has holes');
    utimesSync(extracted, EPOCH, EPOCH);
    chmodSync(extracted, 0o644);
    const reference = join(dir.path, 'gnu.tar');
    gnuTar(x, reference, ['--format=gnu', '-S', 'disk.raw']);
    assert.deepEqual(readFileSync(ours), readFileSync(reference));
    const [member] = pythonMembers(ours);
    assert.equal(member!.type, 'S');
    assert.equal(member!.size, 8 * MiB);
    assert.equal(member!.sparse!.length, 30, 'Python lists the 30 data regions');
  } finally {
    dir.remove();
  }
});

test('a sparse member larger than 8 GiB: base-256 sizes and offsets, same bytes as GNU tar', async () => {
  const dir = tempDir('tar');
  try {
    const size = 10 * GiB;
    const image = alignedImage(size, [[0, 8192], [5 * GiB, 4096], [9 * GiB + 4096, 12288], [size - 4096, 4096]]);
    const ours = await archive(join(dir.path, 'ours.tar'), { mtime: EPOCH, format: 'gnu' }, (tar) => tar.addSparseImage('disk.raw', image));
    assert.ok(statSync(ours).size < 100 * KiB);
    assert.match(runOk('tar', ['-tvf', ours]).stdout, /^-rw-r--r-- 0\/0 +10737418240 .* disk\.raw\n$/);
    const x = extractSparse(ours, join(dir.path, 'x'));
    const extracted = join(x, 'disk.raw');
    assert.equal(statSync(extracted).size, size);
    assert.ok(statSync(extracted).blocks * 512 < MiB);
    utimesSync(extracted, EPOCH, EPOCH);
    chmodSync(extracted, 0o644);
    const reference = join(dir.path, 'gnu.tar');
    gnuTar(x, reference, ['--format=gnu', '-S', 'disk.raw']);
    assert.deepEqual(readFileSync(ours), readFileSync(reference), 'GNU tar re-archives the extracted file to the same bytes');
    const bytes = readFileSync(ours);
    assert.equal(bytes[483], 0x80, 'realsize in base-256');
  } finally {
    dir.remove();
  }
});

test('sparse regions: 512-byte blocks the segments touch, merged, clipped to the image', () => {
  const image = imageFromSegments(10_000, [
    bytesSegment(100, new Uint8Array(10)), // block 0
    bytesSegment(600, new Uint8Array(500)), // blocks 1-2, adjacent to block 0: merged
    bytesSegment(3000, new Uint8Array(1)), // block 5
    bytesSegment(3072, new Uint8Array(0)), // empty: ignored
    bytesSegment(9990, new Uint8Array(10)), // last partial block, clipped to 10000
  ]);
  assert.deepEqual(sparseRegions(image), [
    { offset: 0, length: 1536 },
    { offset: 2560, length: 512 },
    { offset: 9728, length: 272 },
  ]);
});

test('unaligned segments, zero segments, files and producers extract to the image bytes; the image is read once', async () => {
  const dir = tempDir('tar');
  try {
    const file = join(dir.path, 'source');
    writeFileSync(file, seededBytes(9, 3 * MiB));
    const produced = new Map<number, number>();
    let listings = 0;
    const segments: Segment[] = [
      bytesSegment(77, seededBytes(3, 5000)),
      bytesSegment(6000, new Uint8Array(700)),
      ...Array.from({ length: 12 }, (_, i) => lazySegment(MiB + i * 300 * KiB + 13, 200 * KiB + i, () => {
        produced.set(i, (produced.get(i) ?? 0) + 1);
        return textBytes(200 * KiB + i, `lazy ${i} `);
      })),
      { offset: 7 * MiB - 333, length: 3 * MiB, source: { kind: 'file', path: file, offset: 0 } },
      bytesSegment(11 * MiB - 3, Uint8Array.of(9, 9, 9)),
    ];
    const image: BlockImage = { size: 11 * MiB, segments: () => (listings++, segments) };
    const path = await archive(join(dir.path, 'mixed.tar'), { mtime: EPOCH, format: 'gnu' }, (tar) => tar.addSparseImage('disk.raw', image));
    assert.equal(listings, 2, 'listed once for the map and once to read');
    assert.equal(produced.size, 12);
    assert.ok([...produced.values()].every((n) => n === 1), 'each producer ran once');
    const x = extractSparse(path, join(dir.path, 'x'));
    assert.deepEqual(readFileSync(join(x, 'disk.raw')), Buffer.from(readAll(imageFromSegments(11 * MiB, segments))));
    const python = join(dir.path, 'py');
    runOk('python3', ['-c', 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])', path, python]);
    assert.equal(sha256File(join(python, 'disk.raw')), sha256File(join(x, 'disk.raw')), 'Python extracts the same bytes');
  } finally {
    dir.remove();
  }
});

test('an empty image and an image with no segments give valid sparse members', async () => {
  const dir = tempDir('tar');
  try {
    for (const [name, image] of [['empty', imageFromSegments(0, [])], ['holes', imageFromSegments(5 * MiB + 3, [])]] as const) {
      const path = await archive(join(dir.path, `${name}.tar`), { mtime: EPOCH, format: 'gnu' }, (tar) => tar.addSparseImage('disk.raw', image));
      const x = extractSparse(path, join(dir.path, name));
      assert.equal(statSync(join(x, 'disk.raw')).size, image.size, name);
      assert.equal(run('cmp', ['-n', String(image.size), join(x, 'disk.raw'), '/dev/zero']).status, 0, name);
    }
  } finally {
    dir.remove();
  }
});

test('writing the same archive twice gives the same bytes; bad input is refused', async () => {
  const dir = tempDir('tar');
  try {
    const image = alignedImage(4 * MiB, [[4096, 8192], [MiB, 4096]]);
    const build = async (tar: TarWriter): Promise<void> => {
      await tar.addDirectory('d');
      await tar.addFile('d/f', textBytes(1234));
      await tar.addSparseImage('disk.raw', image);
    };
    const a = await archive(join(dir.path, 'a.tar'), { mtime: EPOCH, format: 'gnu' }, build);
    const b = await archive(join(dir.path, 'b.tar'), { mtime: EPOCH, format: 'gnu' }, build);
    assert.equal(sha256File(a), sha256File(b));
    await assert.rejects(archive(join(dir.path, 'c.tar'), { mtime: EPOCH }, (tar) => tar.addFile('x'.repeat(101), new Uint8Array(1))), /Cannot store the name/);
    // GNU names longer than the header go into a ././@LongLink record, as GNU tar writes them.
    const long = await archive(join(dir.path, 'long.tar'), { mtime: EPOCH, format: 'gnu' }, (tar) => tar.addFile(`a/${'x'.repeat(100)}`, new Uint8Array(1)));
    assert.equal(runOk('tar', ['-tf', long]).stdout, `a/${'x'.repeat(100)}\n`);
    assert.throws(() => new TarWriter(outputFileSink(OutputFile.create(join(dir.path, 'd.tar'))), { mtime: -1 }), /mtime -1/);
  } finally {
    dir.remove();
  }
});
