/**
 * Path tables (ECMA-119 9.4): every directory once, level by level, each naming its
 * parent's number; one copy little-endian (type L), one big-endian (type M).
 */

export interface PathTableDir {
  readonly identifier: Uint8Array;
  readonly extent: number;
  /** 1-based number of the parent in this table (the root is its own parent). */
  readonly parentNumber: number;
}

export function pathTableEntryLength(identifierLength: number): number {
  return 8 + identifierLength + (identifierLength % 2);
}

export function encodePathTable(dirs: readonly PathTableDir[], littleEndian: boolean): Uint8Array {
  const size = dirs.reduce((n, d) => n + pathTableEntryLength(d.identifier.length), 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const d of dirs) {
    out[at] = d.identifier.length;
    view.setUint32(at + 2, d.extent, littleEndian);
    view.setUint16(at + 6, d.parentNumber, littleEndian);
    out.set(d.identifier, at + 8);
    at += pathTableEntryLength(d.identifier.length);
  }
  return out;
}
