/**
 * Encodes one planned directory: the volume label (root only) or "." and "..", then for
 * each entry its long-name entries and its short entry. Unused space after the last
 * entry is left zero, which readers take as the end of the directory.
 */
import { asciiBytes } from '../../core/struct.js';
import {
  ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_VOLUME_ID, DIR_ENTRY_SIZE, encodeShortEntry,
} from './dir-entry.js';
import type { PlannedDir } from './layout.js';
import { encodeLfnEntries, shortNameChecksum } from './lfn.js';

const DOT = asciiBytes('.', 11, 0x20);
const DOTDOT = asciiBytes('..', 11, 0x20);

/** `label11` is the padded label for the root, or undefined when the volume has none. */
export function encodeDirectory(dir: PlannedDir, label11: string | undefined): Uint8Array {
  const out = new Uint8Array(dir.entryBytes);
  let at = 0;
  const mtime = dir.node.mtime;
  if (dir.isRoot) {
    if (label11 !== undefined) {
      encodeShortEntry({ name11: asciiBytes(label11, 11, 0x20), attributes: ATTR_VOLUME_ID, caseFlags: 0, firstCluster: 0, size: 0, mtime }, out, at);
      at += DIR_ENTRY_SIZE;
    }
  } else {
    encodeShortEntry({ name11: DOT, attributes: ATTR_DIRECTORY, caseFlags: 0, firstCluster: dir.firstCluster, size: 0, mtime }, out, at);
    at += DIR_ENTRY_SIZE;
    encodeShortEntry({ name11: DOTDOT, attributes: ATTR_DIRECTORY, caseFlags: 0, firstCluster: dir.parentCluster, size: 0, mtime }, out, at);
    at += DIR_ENTRY_SIZE;
  }
  for (const { name, target } of dir.children) {
    const name11 = asciiBytes(name.short, 11);
    if (name.long !== undefined) at += encodeLfnEntries(name.long, shortNameChecksum(name11), out, at);
    const isDir = target.kind === 'dir';
    encodeShortEntry({
      name11,
      attributes: isDir ? ATTR_DIRECTORY : ATTR_ARCHIVE,
      caseFlags: name.caseFlags,
      firstCluster: target.firstCluster,
      size: isDir ? 0 : target.node.size,
      mtime: target.node.mtime,
    }, out, at);
    at += DIR_ENTRY_SIZE;
  }
  return out;
}
