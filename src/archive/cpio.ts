/**
 * cpio "newc" (SVR4 without checksums, the initramfs format) onto a ByteSink, as GNU cpio
 * writes `find . | sort | cpio -o -H newc -R +0:+0 --reproducible`, the way nixpkgs'
 * makeInitrdNG archives an initrd's extra contents: every path of the tree (named without
 * find's "./"), sorted bytewise as full paths (not per directory, as tar's --sort=name), owner 0:0,
 * device numbers zero, inodes numbered from 0 in archive order, each member's name and
 * data padded to 4 bytes, then the TRAILER!!! member and zeros to a whole 512-byte block.
 * A file met again under another name
 * (a hard link) shares the first's inode; as GNU cpio does, only the last name of a link
 * group carries the data.
 */
import { ImageError } from '../core/errors.js';
import type { ByteSink } from '../core/sink.js';
import { childrenOf, type DirNode, type FileNode, type TreeNode } from '../fs/tree.js';
import { streamHostFile } from './sinks.js';

const MAGIC = '070701';
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const READ_SIZE = 1 << 20;
const BLOCK = 512;

interface Member {
  readonly name: string;
  readonly node: TreeNode;
}

/** Every path of the tree as `find .` names it, sorted as `sort` sorts bytes. */
function members(root: DirNode): Member[] {
  const out: Member[] = [{ name: '.', node: root }];
  const visit = (prefix: string, dir: DirNode): void => {
    for (const [name, node] of childrenOf(dir)) {
      const path = `${prefix}/${name}`;
      out.push({ name: path, node });
      if (node.kind === 'dir') visit(path, node);
    }
  };
  visit('.', root);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function hex8(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ImageError('cpio.field', `Cannot store ${value} in a cpio newc header: fields hold 0 to 2^32 - 1`, { hint: 'newc cannot hold files of 4 GiB or more' });
  }
  return value.toString(16).toUpperCase().padStart(8, '0');
}

function pad4(length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4);
}

function header(fields: { ino: number; mode: number; nlink: number; mtime: number; size: number; name: Uint8Array }): Uint8Array {
  const text = MAGIC + [fields.ino, fields.mode, 0, 0, fields.nlink, fields.mtime, fields.size, 0, 0, 0, 0, fields.name.length + 1, 0].map(hex8).join('');
  const head = Buffer.from(text, 'latin1');
  return Buffer.concat([head, fields.name, Uint8Array.of(0), pad4(head.length + fields.name.length + 1)]);
}

export interface CpioOptions {
  /**
   * A directory's link count: "counted" as GNU cpio 2.13 (Debian 12) writes it, or "two"
   * as --reproducible means from cpio 2.14 on (--ignore-dirnlink; nixpkgs has 2.15).
   */
  readonly directoryLinks?: 'counted' | 'two';
}

/** Writes the tree as a newc archive into `sink` (which stays open); returns the bytes written. */
export async function writeCpio(root: DirNode, sink: ByteSink, options: CpioOptions = {}): Promise<number> {
  const countLinks = (options.directoryLinks ?? 'counted') === 'counted';
  const list = members(root);
  // Hard links: the link groups, their inode and the name that carries the data (the last).
  const groups = new Map<string | FileNode, { ino: number | undefined; count: number; last: string }>();
  const keyOf = (file: FileNode): string | FileNode | null => (file.linkKey === undefined ? file : file.linkKey);
  for (const { name, node } of list) {
    if (node.kind !== 'file') continue;
    if (node.size > 0xffffffff) {
      throw new ImageError('cpio.file-too-large', `Cannot store "${name.slice(2)}" in a cpio newc archive: it is ${node.size} bytes, and newc records sizes below 4 GiB`, {
        hint: 'leave the file out of the initrd, or ship it another way (a tarball, a disk image)',
      });
    }
    const key = keyOf(node);
    if (key === null) continue;
    const group = groups.get(key) ?? { ino: undefined, count: 0, last: name };
    group.count++;
    group.last = name;
    groups.set(key, group);
  }
  let written = 0;
  let nextIno = 0;
  const emit = async (bytes: Uint8Array): Promise<void> => {
    if (bytes.length === 0) return;
    await sink.write(bytes);
    written += bytes.length;
  };
  const buffer = new Uint8Array(READ_SIZE);
  for (const { name, node } of list) {
    // GNU cpio stores "./a" as "a" (and "." as ".").
    const nameBytes = Buffer.from(name === '.' ? name : name.slice(2), 'latin1');
    if (node.kind === 'dir') {
      // As stat counts a directory's links: its name, its ".", and each subdirectory's "..".
      const subdirectories = countLinks ? childrenOf(node).filter(([, child]) => child.kind === 'dir').length : 0;
      await emit(header({ ino: nextIno++, mode: S_IFDIR | node.permissions, nlink: 2 + subdirectories, mtime: node.mtime, size: 0, name: nameBytes }));
      continue;
    }
    if (node.kind === 'symlink') {
      const target = Buffer.from(node.target, 'latin1');
      await emit(header({ ino: nextIno++, mode: S_IFLNK | 0o777, nlink: 1, mtime: node.mtime, size: target.length, name: nameBytes }));
      await emit(target);
      await emit(pad4(target.length));
      continue;
    }
    const key = keyOf(node);
    const group = key === null ? undefined : groups.get(key);
    let ino: number;
    if (group === undefined) ino = nextIno++;
    else {
      group.ino ??= nextIno++;
      ino = group.ino;
    }
    const carriesData = group === undefined || group.last === name;
    const size = carriesData ? node.size : 0;
    await emit(header({ ino, mode: S_IFREG | node.permissions, nlink: group?.count ?? 1, mtime: node.mtime, size, name: nameBytes }));
    if (size > 0) {
      if (node.content.kind === 'bytes') await emit(node.content.bytes);
      else await streamHostFile(node.content.path, size, buffer, emit);
      await emit(pad4(size));
    }
  }
  await emit(header({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, name: Buffer.from('TRAILER!!!', 'latin1') }));
  // GNU cpio writes whole 512-byte blocks.
  await emit(new Uint8Array((BLOCK - (written % BLOCK)) % BLOCK));
  return written;
}
