/**
 * Round trips of random trees through every writer that holds files: write the tree,
 * check the result with the format's reference tool, extract it with the reference
 * reader and compare with the source byte for byte. Used by the fixed seeds of the test
 * suite and by the soak run (bench/soak.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCpio } from '../../src/archive/cpio.js';
import { TarWriter } from '../../src/archive/tar.js';
import { addTree } from '../../src/archive/tree-tar.js';
import { ImageError } from '../../src/core/errors.js';
import { outputFileSink } from '../../src/core/sink.js';
import { writeRaw } from '../../src/container/raw.js';
import { buildExt4 } from '../../src/fs/ext4/index.js';
import { buildFat } from '../../src/fs/fat/writer.js';
import { writeIso } from '../../src/fs/iso9660/index.js';
import { MAX_EXTENT_BYTES } from '../../src/fs/iso9660/layout.js';
import { writeSquashfs, type SquashfsCompression } from '../../src/fs/squashfs/index.js';
import { lazyHostTree, type DirNode } from '../../src/fs/tree.js';
import { e2fsckFindings } from '../fs/ext4/e2fs-checks.js';
import { writeImage as writeFatImage, MTOOLS_ENV } from '../fs/fat/fat-tools.js';
import { writeTo } from './output.js';
import { compareMetadata, compareSnapshots, generateTree, type MetadataListing, Random, snapshotBytes, type CompareOptions, type TreeProfile, type TreeShape, type TreeSummary } from './random-tree.js';
import { run } from './run.js';

const EPOCH = 1_700_000_000;
const KiB = 1024;
const MiB = 1024 * KiB;
/** Sizes at and around 2^32, where 32-bit size fields end. */
const AROUND_4_GIB = [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 32 + 5 * MiB + 17];

export interface RoundTripWriter {
  readonly name: string;
  readonly profile: TreeProfile;
  readonly compare: CompareOptions;
  /** The reference tools this round trip runs, for reports. */
  readonly tools: string;
  /**
   * Writes `tree` into `image`, checks it and extracts it under `into`; returns problems
   * (empty when the image checks clean), the settings the seed drew, and where the tree's
   * root was extracted.
   */
  readonly roundTrip: (tree: DirNode, image: string, into: string, random: Random) => Promise<{ problems: string[]; settings: string; extracted?: string }>;
  /** Every entry's full mode and inode as the format's own tool lists them, where the reader loses some. */
  readonly listMetadata?: (image: string) => MetadataListing;
}

/** Runs a reference tool; a failure is a problem line with its output's tail. */
function tool(problems: string[], command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): string {
  const result = run(command, args, options);
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) problems.push(`${command} ${args[0] ?? ''} exited ${result.status}: ${output.trim().split('\n').slice(-5).join(' | ')}`);
  return output;
}

const storeProfile = (overrides: Partial<TreeProfile>): TreeProfile => ({
  names: 'bytes',
  symlinks: true,
  maxSymlinkBytes: 4095,
  emptyLinkComponents: true,
  hardLinks: true,
  modes: true,
  boundaries: [],
  maxFileBytes: 300 * MiB,
  hugeSizes: AROUND_4_GIB,
  maxDirectoryEntries: 70_000,
  maxDepth: 40,
  ...overrides,
});

const ext4: RoundTripWriter = {
  name: 'ext4',
  tools: 'e2fsck -fn, debugfs rdump',
  // Blocks, the 60-byte inline symlink limit, one extent (32,768 blocks = 128 MiB). No
  // file of 4 GiB: the writer allocates its holes and rdump writes them all out (32 s);
  // 2^32 has its own test, past 4 GiB a 10 GiB one (test/fs/ext4/writer.test.ts).
  profile: storeProfile({ boundaries: [60, 4 * KiB, 8 * KiB, 48 * KiB, 128 * MiB], hugeSizes: [] }),
  // rdump drops setuid, setgid and sticky bits and makes hard links copies: those are
  // checked through debugfs's own listing.
  compare: { modeMask: 0o777, hardLinks: false, ignore: ['lost+found'] },
  listMetadata: debugfsListing,
  roundTrip: async (tree, image, into, random) => {
    const headroom = random.pick([0, 1, 64]) * MiB;
    const fs = buildExt4(tree, { label: 'random', uuid: '5EED0000-0000-4000-8000-000000000000', epoch: 1, headroomBytes: headroom });
    await writeTo(image, (out) => writeRaw(fs.image, out));
    const problems: string[] = [];
    const findings = e2fsckFindings(image);
    if (findings.length > 0) problems.push(`e2fsck -fn reported: ${findings.slice(0, 5).join(' | ')}`);
    mkdirSync(into);
    tool(problems, 'debugfs', ['-R', `rdump / ${into}`, image]);
    return { problems, settings: `headroom ${headroom / MiB} MiB` };
  },
};

/**
 * Every entry of an ext4 image by path, from `debugfs ls -p` of each directory by inode
 * number (names are never typed into debugfs, so any byte works). Its lines are
 * "/ino/mode/uid/gid/name/size/"; a name holds no "/" but may hold a line break.
 */
function debugfsListing(image: string): MetadataListing {
  const listing: MetadataListing = new Map();
  let pending: { ino: number; path: string }[] = [{ ino: 2, path: '' }];
  while (pending.length > 0) {
    const commands = join(`${image}.debugfs`);
    writeFileSync(commands, pending.map((d) => `ls -p <${d.ino}>\n`).join(''));
    const out = run('debugfs', ['-f', commands, image]).stdout;
    const sections = out.split(/^debugfs: ls -p <\d+>\n/m).slice(1);
    const next: { ino: number; path: string }[] = [];
    sections.forEach((section, i) => {
      const parent = pending[i]!.path;
      for (const m of section.matchAll(/\/(\d+)\/(\d+)\/\d+\/\d+\/([^/]*)\/\d*\/\n/g)) {
        const name = m[3]!;
        if (name === '.' || name === '..' || (parent === '' && name === 'lost+found')) continue;
        const path = parent === '' ? name : `${parent}/${name}`;
        const mode = parseInt(m[2]!, 8);
        listing.set(path, { mode, inode: m[1]! });
        if ((mode & 0o170000) === 0o040000) next.push({ ino: Number(m[1]), path });
      }
    });
    pending = next;
  }
  return listing;
}

const squashfs: RoundTripWriter = {
  name: 'squashfs',
  tools: 'unsquashfs -s, unsquashfs',
  profile: storeProfile({ boundaries: [4 * KiB, 128 * KiB, 1 * MiB, 8 * KiB] }),
  compare: { modeMask: 0o7777, hardLinks: true },
  roundTrip: async (tree, image, into, random) => {
    const compression = random.pick<SquashfsCompression>(['zstd', 'gzip', 'xz', 'lz4', 'none']);
    const blockSize = random.pick([4 * KiB, 128 * KiB, 1 * MiB]);
    const level = compression === 'zstd' ? random.pick([1, 3]) : compression === 'gzip' ? random.pick([1, 9]) : undefined;
    await writeTo(image, async (out) => {
      await writeSquashfs(tree, out, 0, { compression, blockSize, mtime: EPOCH, ...(level === undefined ? {} : { level }) });
    });
    const problems: string[] = [];
    tool(problems, 'unsquashfs', ['-s', image]);
    tool(problems, 'unsquashfs', ['-no-xattrs', '-st', '-d', into, image]);
    return { problems, settings: `${compression}${level === undefined ? '' : ` ${level}`}, ${blockSize / KiB} KiB blocks` };
  },
};

const iso9660: RoundTripWriter = {
  name: 'iso9660',
  tools: 'xorriso -check_media, osirrox -extract',
  // Sectors, and the multi-extent cut at 4 GiB.
  // libisofs reads symlink targets of at most 1,023 bytes without empty components (others are refused).
  // Files over 4 GiB less a sector are cut into several extents.
  profile: storeProfile({
    boundaries: [2 * KiB, 4 * KiB, 64 * KiB], maxSymlinkBytes: 1023, emptyLinkComponents: false,
    hugeSizes: [...AROUND_4_GIB, MAX_EXTENT_BYTES, MAX_EXTENT_BYTES + 1], maxDirectoryEntries: 20_000, maxDepth: 30,
  }),
  // osirrox restores modes; hard links become copies unless AAIP records them.
  compare: { modeMask: 0o7777, hardLinks: false },
  roundTrip: async (tree, image, into) => {
    await writeTo(image, async (out) => {
      await writeIso(tree, out, { volumeId: 'RANDOM', mtime: EPOCH });
    });
    const problems: string[] = [];
    const report = tool(problems, 'xorriso', ['-indev', image, '-check_media', '--']);
    if (!/Media checks :\s+lba ,\s+size , quality\s*\n\s*Media region :\s+0 ,\s+\d+ , \+ good/m.test(report)) problems.push(`xorriso -check_media: ${report.trim().split('\n').slice(-3).join(' | ')}`);
    // Zero runs extracted as holes: a 4 GiB sparse file is not written out in full.
    tool(problems, 'osirrox', ['-osirrox', 'on:sparse=1m', '-indev', image, '-extract', '/', into]);
    return { problems, settings: '' };
  },
};

const tar: RoundTripWriter = {
  name: 'tar',
  tools: 'GNU tar -x',
  // Records; long names and link targets need GNU extension headers past 100 bytes.
  profile: storeProfile({ boundaries: [512, 10 * KiB, 100] }),
  compare: { modeMask: 0o7777, hardLinks: true },
  roundTrip: async (tree, image, into) => {
    await writeTo(image, async (out) => {
      const writer = new TarWriter(outputFileSink(out), { mtime: EPOCH, format: 'gnu' });
      await addTree(writer, 'root', tree);
      await writer.finish();
    });
    const problems: string[] = [];
    mkdirSync(into);
    tool(problems, 'tar', ['-x', '--numeric-owner', '-p', '-f', image, '-C', into]);
    return { problems, settings: '', extracted: join(into, 'root') };
  },
};

const cpio: RoundTripWriter = {
  name: 'cpio',
  tools: 'GNU cpio -i',
  // newc holds sizes below 4 GiB: no huge sparse file (its refusal is tested on its own).
  profile: storeProfile({ boundaries: [4, 512, 4 * KiB], hugeSizes: [] }),
  compare: { modeMask: 0o7777, hardLinks: true },
  roundTrip: async (tree, image, into) => {
    await writeTo(image, async (out) => {
      const sink = outputFileSink(out);
      await writeCpio(tree, sink);
      await sink.close();
    });
    const problems: string[] = [];
    mkdirSync(into);
    tool(problems, 'cpio', ['-idm', '--quiet', '--no-absolute-filenames', '-F', image], { cwd: into });
    return { problems, settings: '' };
  },
};

const fat: RoundTripWriter = {
  name: 'fat',
  tools: 'fsck.fat -n, mcopy',
  // Sectors and clusters from 512 bytes to 64 KiB; FAT has no symlinks, links or Unix modes.
  profile: storeProfile({
    names: 'fat', symlinks: false, hardLinks: false, modes: false,
    boundaries: [512, 2 * KiB, 4 * KiB, 16 * KiB, 32 * KiB, 64 * KiB],
    maxFileBytes: 4 * MiB, hugeSizes: [], maxDirectoryEntries: 5000, maxDepth: 12,
  }),
  compare: { modeMask: 0, hardLinks: false },
  roundTrip: async (tree, image, into, random) => {
    const fatType = random.pick([undefined, 12, 16, 32] as const);
    const problems: string[] = [];
    // The smallest volume of the drawn type that holds the tree, found by growing it.
    let sizeBytes = fatType === 32 ? 40 * MiB : 2 * MiB;
    for (;;) {
      try {
        const volume = buildFat(tree, { sizeBytes, label: 'RANDOM', volumeId: 0x5eed, ...(fatType === undefined ? {} : { fatType }) });
        writeFatImage(volume, image);
        break;
      } catch (error) {
        if (!(error instanceof ImageError) || !['fat.too-small', 'fat.geometry', 'fat.root-full'].includes(error.code) || sizeBytes > 4096 * MiB) throw error;
        sizeBytes = Math.ceil((sizeBytes * 1.5) / MiB) * MiB;
      }
    }
    const fsck = tool(problems, 'fsck.fat', ['-n', image]);
    if (/differ|wrong|orphan|bad|invalid|duplicate|share clusters|dirty/i.test(fsck)) problems.push(`fsck.fat reported: ${fsck.trim().split('\n').slice(-5).join(' | ')}`);
    mkdirSync(into);
    tool(problems, 'mcopy', ['-s', '-n', '-i', image, '::/*', `${into}/`], { env: MTOOLS_ENV });
    return { problems, settings: `FAT${fatType ?? ' (size default)'}, ${sizeBytes / MiB} MiB` };
  },
};

export const ROUND_TRIP_WRITERS: readonly RoundTripWriter[] = [ext4, fat, squashfs, iso9660, tar, cpio];

export interface RoundTripResult {
  readonly writer: string;
  readonly seed: number;
  readonly summary: TreeSummary;
  readonly settings: string;
  /** Empty when the round trip gave the tree back. */
  readonly problems: readonly string[];
}

/** One seed through one writer, in `work` (left for the caller to remove). */
export async function roundTripSeed(writer: RoundTripWriter, seed: number, work: string, shape: TreeShape = {}): Promise<RoundTripResult> {
  const source = join(work, 'source');
  const summary = generateTree(source, seed, writer.profile, shape);
  const tree = lazyHostTree(source, { maxTime: EPOCH, uid: 0, gid: 0 }) as DirNode;
  const into = join(work, 'extracted');
  // The writer's settings are drawn from their own stream, so a tree does not depend on them.
  const image = join(work, `image.${writer.name}`);
  const { problems, settings, extracted } = await writer.roundTrip(tree, image, into, new Random(seed ^ 0x9e3779b9));
  if (problems.length === 0) {
    const expected = snapshotBytes(source);
    problems.push(...compareSnapshots(expected, snapshotBytes(extracted ?? into), writer.compare));
    if (problems.length === 0 && writer.listMetadata !== undefined) problems.push(...compareMetadata(expected, writer.listMetadata(image)));
  }
  return { writer: writer.name, seed, summary, settings, problems };
}

/** One line describing a tree, for reports and failing seeds. */
export function describeTree(summary: TreeSummary): string {
  const parts = [
    `${summary.files} files`,
    `${summary.directories} directories`,
    `${summary.symlinks} symlinks`,
    `${summary.hardLinks} hard links`,
    `${(summary.bytes / MiB).toFixed(1)} MiB`,
    `largest directory ${summary.largestDirectory}`,
    `depth ${summary.deepest}`,
  ];
  if (summary.hugeSparse > 0) parts.push(`a sparse file of ${summary.hugeSparse} bytes`);
  return parts.join(', ');
}
