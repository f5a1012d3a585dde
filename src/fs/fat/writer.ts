/**
 * Builds a FAT12/16/32 volume image from a tree. The image is a list of segments:
 * boot sector (plus FSInfo and backups on FAT32), both FAT copies and the directories as
 * producers run when the image is read, and file contents as references to the files
 * (or their in-memory bytes). Nothing is read from disk here.
 */
import {
  bytesSegment, imageFromSegments, lazySegment, type BlockImage, type Segment,
} from '../../core/block-image.js';
import { ImageError } from '../../core/errors.js';
import type { DirNode } from '../tree.js';
import { BACKUP_BOOT_SECTOR, encodeBootSector, FSINFO_SECTOR, NO_NAME } from './boot-sector.js';
import { encodeDirectory } from './directory.js';
import { FatTable } from './fat-table.js';
import { encodeFsInfo, FSINFO_UNKNOWN } from './fsinfo.js';
import { computeFatGeometry, type FatGeometry, type FatType } from './geometry.js';
import { planFat, type FatLayout } from './layout.js';

export interface FatOptions {
  /** Volume size in bytes, a multiple of 512. */
  readonly sizeBytes: number;
  /** Up to 11 characters; stored upper case. Empty for no label. */
  readonly label: string;
  /** Volume serial number (u32), given by the caller so builds are reproducible. */
  readonly volumeId: number;
  /** LBA of the partition start, recorded in the BPB (0 for a bare image). */
  readonly hiddenSectors?: number;
  /** Default: what mkfs.fat 4.2 picks for this size. */
  readonly fatType?: FatType;
}

/** Bytes of the FAT encoded per producer call. */
const FAT_CHUNK = 1 << 20;
/** Characters mkfs.fat and fsck.fat refuse in a label (besides controls). */
const LABEL_FORBIDDEN = new Set('*?.,;:/\\|+=<>[]"');

/** The label as stored (11 characters, upper case, space padded), or undefined for none. */
export function normaliseLabel(label: string): string | undefined {
  const upper = label.toUpperCase();
  if (upper.length > 11) {
    throw new ImageError('fat.label-invalid', `Cannot use FAT label "${label}": it is ${upper.length} characters, at most 11 fit`);
  }
  for (const ch of upper) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e || LABEL_FORBIDDEN.has(ch)) {
      throw new ImageError('fat.label-invalid', `Cannot use FAT label "${label}": it contains ${JSON.stringify(ch)}`, {
        hint: 'use ASCII letters, digits, spaces and - _ ! # $ % & \' ( ) @ ^ ` { } ~',
      });
    }
  }
  if (upper.trim() === '') return undefined;
  if (upper.startsWith(' ')) {
    throw new ImageError('fat.label-invalid', `Cannot use FAT label "${label}": it starts with a space`);
  }
  return upper.padEnd(11, ' ');
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ImageError('fat.option-invalid', `Cannot use FAT ${name} ${value}: expected an integer from 0 to 4294967295`);
  }
}

interface Prepared {
  readonly geometry: FatGeometry;
  readonly layout: FatLayout;
  readonly label11: string | undefined;
}

function prepare(root: DirNode, options: FatOptions): Prepared {
  checkU32('volume ID', options.volumeId);
  checkU32('hidden sector count', options.hiddenSectors ?? 0);
  if (options.fatType !== undefined && ![12, 16, 32].includes(options.fatType)) {
    throw new ImageError('fat.option-invalid', `Cannot make a FAT${String(options.fatType)} volume: expected FAT12, FAT16 or FAT32`);
  }
  const label11 = normaliseLabel(options.label);
  const geometry = computeFatGeometry(options.sizeBytes, options.fatType);
  const layout = planFat(root, geometry, label11 !== undefined);
  return { geometry, layout, label11 };
}

/**
 * Bytes of clusters the tree needs (data + directories), to size volumes or fail early.
 * Counts whole clusters at the cluster size this volume size gets, including the FAT32
 * root directory; the FAT12/16 root lives outside the data area and is not counted.
 */
export function fatContentBytes(root: DirNode, options: FatOptions): number {
  const { geometry, layout } = prepare(root, options);
  return layout.clustersUsed * geometry.clusterBytes;
}

export function buildFat(root: DirNode, options: FatOptions): BlockImage {
  const { geometry: g, layout, label11 } = prepare(root, options);
  if (layout.clustersUsed > g.clusterCount) {
    const needed = layout.clustersUsed * g.clusterBytes;
    const available = g.clusterCount * g.clusterBytes;
    throw new ImageError('fat.too-small', `Cannot fit the tree into a ${options.sizeBytes}-byte FAT${g.fatType} volume: it needs ${needed} bytes of clusters, the volume has ${available}`, {
      hint: 'make the volume larger',
    });
  }
  const segments: Segment[] = [];

  const boot = encodeBootSector({ geometry: g, hiddenSectors: options.hiddenSectors ?? 0, volumeId: options.volumeId, label11: label11 ?? NO_NAME });
  if (g.fatType === 32) {
    // Sectors 0 (boot), 1 (FSInfo), 6 and 7 (their copies); 2..5 stay zero.
    const free = g.clusterCount - layout.clustersUsed;
    const fsInfo = encodeFsInfo(free, free > 0 ? 2 + layout.clustersUsed : FSINFO_UNKNOWN);
    const reserved = new Uint8Array((BACKUP_BOOT_SECTOR + FSINFO_SECTOR + 1) * 512);
    reserved.set(boot, 0);
    reserved.set(fsInfo, FSINFO_SECTOR * 512);
    reserved.set(boot, BACKUP_BOOT_SECTOR * 512);
    reserved.set(fsInfo, (BACKUP_BOOT_SECTOR + FSINFO_SECTOR) * 512);
    segments.push(bytesSegment(0, reserved));
  } else {
    segments.push(bytesSegment(0, boot));
  }

  const table = new FatTable(g.fatType, g.media, layout.runs);
  for (let copy = 0; copy < g.fatCount; copy++) {
    const base = g.fatOffset + copy * g.fatBytes;
    for (let from = 0; from < table.usedBytes; from += FAT_CHUNK) {
      const to = Math.min(table.usedBytes, from + FAT_CHUNK);
      segments.push(lazySegment(base + from, to - from, () => table.encode(from, to)));
    }
  }

  if (g.fatType !== 32 && layout.root.entryBytes > 0) {
    segments.push(lazySegment(g.rootDirOffset, layout.root.entryBytes, () => encodeDirectory(layout.root, label11)));
  }
  for (const object of layout.objects) {
    const offset = g.dataOffset + (object.firstCluster - 2) * g.clusterBytes;
    if (object.kind === 'dir') {
      segments.push(lazySegment(offset, object.entryBytes, () => encodeDirectory(object, object.isRoot ? label11 : undefined)));
      continue;
    }
    const { node } = object;
    if (node.content.kind === 'host') {
      segments.push({ offset, length: node.size, source: { kind: 'file', path: node.content.path, offset: 0, size: node.size } });
    } else {
      if (node.content.bytes.length !== node.size) {
        throw new ImageError('fat.file-size', `Internal error: "${object.path}" says ${node.size} bytes but holds ${node.content.bytes.length}`);
      }
      segments.push(bytesSegment(offset, node.content.bytes));
    }
  }
  return imageFromSegments(options.sizeBytes, segments);
}
