import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputFile } from '../../../src/core/output-file.js';
import { writeIso, type DeferredFile, type IsoOptions } from '../../../src/fs/iso9660/index.js';
import { dir, fileFromBytes, lazyHostTree, symlink, type DirNode } from '../../../src/fs/tree.js';
import { run, runOk, tempDir } from '../../helpers/run.js';
import { makeTortureTree, snapshotTree } from '../../helpers/tree.js';

const EPOCH = 1700000000;
const ISOLINUX = '/usr/lib/ISOLINUX';

async function build(tree: DirNode, path: string, options: Partial<IsoOptions> = {}, deferred?: DeferredFile): Promise<number> {
  const out = OutputFile.create(path);
  try {
    const { bytes } = await writeIso(tree, out, { volumeId: 'nixos-test', mtime: EPOCH, ...options }, deferred);
    out.commit();
    return bytes;
  } catch (error) {
    out.abort();
    throw error;
  }
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const report = (iso: string, what: string): string => runOk('xorriso', ['-indev', iso, what, 'plain']).stdout;

test('a store-like tree round-trips through osirrox: contents, modes, symlinks, long names, 1,000 entries, 10 levels, a sparse file', async () => {
  const t = tempDir('iso-tree');
  try {
    const src = join(t.path, 'src');
    makeTortureTree(src, { bigDirEntries: 1000, sparseBytes: 64 << 20 });
    mkdirSync(join(src, 'l1/l2/l3/l4/l5/l6/l7/l8/l9/l10'), { recursive: true });
    writeFileSync(join(src, 'l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/deep-file'), 'ten levels\n');
    for (const n of ['same-name.txt', 'same_name.txt', 'Same-Name.txt']) writeFileSync(join(src, n), n);
    writeFileSync(join(src, `${'j'.repeat(70)}.extension`), 'joliet\n');
    symlinkSync('../'.repeat(3) + 'x/'.repeat(200) + 'end', join(src, 'very-long-symlink'));
    const tree = lazyHostTree(src, { maxTime: EPOCH }) as DirNode;
    const iso = join(t.path, 'a.iso');
    await build(tree, iso);
    await build(tree, join(t.path, 'b.iso'));
    assert.equal(sha(iso), sha(join(t.path, 'b.iso')), 'same inputs give the same bytes');
    // The sparse file's holes stay holes in the ISO file.
    const { size, blocks } = statSync(iso);
    assert.ok(blocks * 512 < size - (48 << 20), `${blocks * 512} bytes allocated of ${size}`);

    const info = runOk('isoinfo', ['-d', '-i', iso]).stdout;
    assert.match(info, /Volume id: nixos-test\n/);
    assert.match(info, /Joliet with UCS level 3 found/);
    assert.match(info, /Rock Ridge signatures version 1 found/);
    const out = join(t.path, 'out');
    runOk('osirrox', ['-indev', iso, '-extract', '/', out]);
    const expected = snapshotTree(src);
    const got = snapshotTree(out);
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
    for (const [path, entry] of expected) {
      if (path === '') continue;
      assert.deepEqual(got.get(path), entry, path);
    }
    const rr = runOk('isoinfo', ['-R', '-l', '-i', iso]).stdout;
    assert.match(rr, / 3 +0 +0 +15 .* original/, 'hard links share one PX link count');
    assert.match(rr, new RegExp(`n{255} `));
    const joliet = runOk('isoinfo', ['-J', '-l', '-i', iso]).stdout;
    assert.match(joliet, new RegExp(` ${'j'.repeat(61)}\\.ext \\n`), 'Joliet cuts the extension to 3, the name to 64 characters, as xorriso does');
    const plain = runOk('isoinfo', ['-l', '-i', iso]).stdout;
    assert.match(plain, / SAME_NAME0\.TXT;1/);
    assert.match(plain, / SAME_NAME2\.TXT;1/);
  } finally {
    t.remove();
  }
});

function bootTree(root: string): void {
  mkdirSync(join(root, 'isolinux'), { recursive: true });
  mkdirSync(join(root, 'boot'));
  copyFileSync(`${ISOLINUX}/isolinux.bin`, join(root, 'isolinux/isolinux.bin'));
  copyFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32', join(root, 'isolinux/ldlinux.c32'));
  writeFileSync(join(root, 'isolinux/isolinux.cfg'), 'SERIAL 0 115200\nSAY hello\n');
  runOk('mkfs.fat', ['-C', join(root, 'boot/efi.img'), '2880']);
  runOk('mmd', ['-i', join(root, 'boot/efi.img'), '::/EFI']);
  writeFileSync(join(root, 'nix-store.squashfs'), '');
}

test('El Torito, boot info table, isohybrid MBR and GPT match what xorriso writes for the nixpkgs flags', async () => {
  const t = tempDir('iso-boot');
  try {
    const src = join(t.path, 'src');
    bootTree(src);
    const iso = join(t.path, 'ours.iso');
    const mbrCode = readFileSync(`${ISOLINUX}/isohdpfx.bin`).subarray(0, 432);
    const bytes = await build(lazyHostTree(src, { maxTime: EPOCH }) as DirNode, iso, {
      bios: { bootImage: 'isolinux/isolinux.bin', bootInfoTable: true }, efi: { bootImage: 'boot/efi.img' },
      hybrid: { mbrCode, gpt: true, gptDiskGuid: '0123456789abcdef0123456789abcdef' }, volumeId: 'nixos-minimal-25.05-x86_64',
    });
    assert.equal(bytes % (1 << 20), 0, 'isohybrid images are whole 1 MiB cylinders');
    const ref = join(t.path, 'ref.iso');
    runOk('xorriso', ['-boot_image', 'any', 'gpt_disk_guid=0123456789abcdef0123456789abcdef', '-volume_date', 'all_file_dates', `=${EPOCH}`,
      '-as', 'mkisofs', '-iso-level', '3', '-volid', 'nixos-minimal-25.05-x86_64', '-full-iso9660-filenames', '-joliet',
      '-eltorito-boot', 'isolinux/isolinux.bin', '-eltorito-catalog', '.boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
      '-isohybrid-mbr', `${ISOLINUX}/isohdpfx.bin`, '-eltorito-alt-boot', '-e', 'boot/efi.img', '-no-emul-boot', '-isohybrid-gpt-basdat',
      '-r', '-output', ref, src]);

    // Same reports once the sectors (which differ by layout) are masked.
    const norm = (text: string): string[] => text.split('\n')
      .filter((l) => /^(El Torito|MBR|GPT|System area|ISO image size)/.test(l))
      .map((l) => l.replace(/\s+/g, ' '));
    const ours = norm(report(iso, '-report_el_torito') + report(iso, '-report_system_area'));
    const theirs = norm(report(ref, '-report_el_torito') + report(ref, '-report_system_area'));
    const lbaOf = (lines: string[], prefix: string): number => Number(lines.find((l) => l.startsWith(prefix))!.trim().split(' ').pop());
    assert.ok(ours.includes('El Torito boot img : 1 BIOS y none 0x0000 0x00 4 ' + lbaOf(ours, 'El Torito boot img : 1')));
    assert.ok(ours.includes('El Torito boot img : 2 UEFI y none 0x0000 0x00 5760 ' + lbaOf(ours, 'El Torito boot img : 2')));
    assert.ok(ours.includes('El Torito img opts : 1 boot-info-table isohybrid-suitable'));
    assert.ok(ours.includes('El Torito cat path : /.boot.cat'));
    const efiSector = lbaOf(ours, 'El Torito boot img : 2') * 4;
    assert.ok(ours.includes(`MBR partition : 1 0x80 0x00 0 ${bytes / 512}`));
    assert.ok(ours.includes(`MBR partition : 2 0x00 0xef ${efiSector} 5760`));
    assert.ok(ours.includes(`GPT start and size : 2 ${efiSector} 5760`));
    const mask = (lines: string[]): string[] => lines.filter((l) => !/boot img|catalog|MBR partition :|GPT start and size : 2/.test(l));
    assert.deepEqual(mask(ours), mask(theirs));

    // Boot info table: bytes 8..63 as xorriso writes them, but for the image's own sector.
    const table = (path: string, sector: number): Buffer => readFileSync(path).subarray(sector * 2048 + 8, sector * 2048 + 64);
    const oursTable = table(iso, lbaOf(ours, 'El Torito boot img : 1'));
    const theirTable = table(ref, lbaOf(theirs, 'El Torito boot img : 1'));
    assert.equal(oursTable.readUInt32LE(4), lbaOf(ours, 'El Torito boot img : 1'));
    assert.deepEqual(Buffer.concat([oursTable.subarray(0, 4), oursTable.subarray(8)]), Buffer.concat([theirTable.subarray(0, 4), theirTable.subarray(8)]));
    assert.deepEqual(readFileSync(iso).subarray(0, 432), Buffer.from(mbrCode));

    const fdisk = runOk('fdisk', ['-l', iso]).stdout;
    assert.match(fdisk, new RegExp(`ours\\.iso2 +${efiSector} +${efiSector + 5759} +5760 .* ef EFI`));
    const verify = run('sgdisk', ['-v', iso]).stdout;
    assert.doesNotMatch(verify, /CRC|mismatch|corrupt/i);
    assert.equal(verify, run('sgdisk', ['-v', ref]).stdout.replace(/ref\.iso/g, 'ours.iso'), 'sgdisk sees what it sees in the xorriso image');
    const mdir = runOk('mdir', ['-i', `${iso}@@${efiSector * 512}`, '::/'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } }).stdout;
    assert.match(mdir, /EFI +<DIR>/);

    // Negative control: a broken primary descriptor is refused.
    const broken = join(t.path, 'broken.iso');
    const image = readFileSync(iso);
    image.write('CD999', 16 * 2048 + 1, 'latin1');
    writeFileSync(broken, image);
    assert.notEqual(run('isoinfo', ['-d', '-i', broken]).stdout.includes('Volume id: nixos'), true);
    assert.notEqual(run('xorriso', ['-indev', broken, '-ls', '/']).stdout.includes('isolinux'), true);
  } finally {
    t.remove();
  }
});

test('a deferred 4.5 GiB file is written last as a multi-extent file and read back across its extents', async () => {
  const t = tempDir('iso-deferred');
  try {
    const size = 4.5 * 1024 ** 3;
    const marks = [0, 0xfffff800 - 8, size - 16];
    const tree = dir({ permissions: 0o755, uid: 0, gid: 0, mtime: EPOCH }, [['small', fileFromBytes({ permissions: 0o644, uid: 0, gid: 0, mtime: EPOCH }, 'small\n')]]);
    const iso = join(t.path, 'big.iso');
    const bytes = await build(tree, iso, {}, {
      path: 'nix-store.squashfs', mode: 0o444, maxBytes: 5 * 1024 ** 3,
      write: async (out, start) => {
        for (const at of marks) out.writeAt(start + at, Buffer.from(`mark@${at}`.padEnd(16, '.')));
        return size;
      },
    });
    assert.ok(bytes > size);
    const lba = runOk('xorriso', ['-indev', iso, '-find', '/nix-store.squashfs', '-exec', 'report_lba']).stdout;
    assert.equal(lba.match(/File data lba:/g)?.length, 2, lba);
    for (const at of marks) {
      const cut = join(t.path, `cut-${at}`);
      runOk('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract_cut', '/nix-store.squashfs', String(at), '16', cut]);
      assert.equal(readFileSync(cut, 'latin1'), `mark@${at}`.padEnd(16, '.'));
    }
    assert.match(runOk('isoinfo', ['-R', '-l', '-i', iso]).stdout, /-r--r--r-- .* small|nix-store\.squashfs/);
  } finally {
    t.remove();
  }
});

test('bad input is one clear line each', async () => {
  const t = tempDir('iso-bad');
  try {
    const tree = dir({ permissions: 0o755, uid: 0, gid: 0, mtime: EPOCH });
    const path = join(t.path, 'x.iso');
    await assert.rejects(build(tree, path, { volumeId: 'x'.repeat(40) }), /Cannot use volume ID "x{40}": it is 40 characters, at most 32 fit/);
    await assert.rejects(build(tree, path, { volumeId: 'nixos-ünï' }), /Cannot use volume ID .* which ISO 9660 cannot hold/);
    await assert.rejects(build(tree, path, { bios: { bootImage: 'isolinux/isolinux.bin', bootInfoTable: true } }), /Cannot use "isolinux\/isolinux.bin" as the BIOS boot image: no such file in the tree/);
    await assert.rejects(build(tree, path, {}, { path: 'big', mode: 0o444, maxBytes: 10, write: async () => 11 }), /Cannot place "big": it was 11 bytes, more than the 10 reserved/);
    assert.equal(run('ls', [t.path]).stdout, '', 'nothing is left at the output path');
  } finally {
    t.remove();
  }
});

test('symlink targets xorriso cannot read back are refused with one line, and nothing is left at the output path', async () => {
  const t = tempDir('iso-refusals');
  try {
    const meta = { permissions: 0o777, uid: 0, gid: 0, mtime: EPOCH };
    const iso = join(t.path, 'refused.iso');
    const refused = async (target: string): Promise<string> => {
      const tree = dir({ ...meta, permissions: 0o755 }, [['link', symlink(meta, target)]]);
      const error = await build(tree, iso).then(() => undefined, (e: unknown) => e as Error & { code: string });
      assert.ok(error !== undefined, `"${target.slice(0, 40)}" was refused`);
      assert.ok(!existsSync(iso), 'no partial ISO');
      assert.doesNotMatch(error.message, /\n/);
      return `${error.code}: ${error.message}`;
    };
    assert.match(await refused('x'.repeat(1024)), /^iso\.symlink-too-long: Cannot store symlink "link" on the ISO: its target is 1024 bytes, and xorriso and libisofs read at most 1023$/);
    assert.match(await refused('a//b'), /^iso\.symlink-unrepresentable: .*"a\/\/b" has an empty component/);
    assert.match(await refused('dir/'), /^iso\.symlink-unrepresentable: /);
    // Accepted targets read back as written: the longest, "/" alone, and components that
    // fill an SL entry or span several (one of 248 bytes once made xorriso crash).
    const targets: Record<string, string> = {
      longest: `/${'y'.repeat(1022)}`,
      root: '/',
      'fills-an-entry': 'c'.repeat(247),
      'one-more': 'c'.repeat(248),
      'spans-three': `../${'d'.repeat(600)}/e`,
    };
    await build(dir({ ...meta, permissions: 0o755 }, Object.entries(targets).map(([name, target]) => [name, symlink(meta, target)])), iso);
    const out = join(t.path, 'out');
    runOk('osirrox', ['-indev', iso, '-extract', '/', out]);
    for (const [name, target] of Object.entries(targets)) assert.equal(runOk('readlink', [join(out, name)]).stdout.replace(/\n$/, ''), target, name);
  } finally {
    t.remove();
  }
});
