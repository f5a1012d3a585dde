/** ISO 9660 numbers stored twice, little-endian then big-endian (ECMA-119 7.2.3, 7.3.3). */

export const SECTOR_SIZE = 2048;

export function putBoth16(into: Uint8Array, at: number, value: number): void {
  const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
  view.setUint16(at, value, true);
  view.setUint16(at + 2, value, false);
}

export function putBoth32(into: Uint8Array, at: number, value: number): void {
  const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
  view.setUint32(at, value, true);
  view.setUint32(at + 4, value, false);
}

export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR_SIZE);
}
