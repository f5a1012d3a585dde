/**
 * The boot info table isolinux expects (mkisofs -boot-info-table): bytes 8..63 of the
 * no-emulation boot image hold the primary descriptor's sector, the image's own sector and
 * length, and the 32-bit sum of the image's little-endian words from byte 64 on.
 */
import { ImageError } from '../../core/errors.js';
import { FIRST_DESCRIPTOR_SECTOR } from './volume-descriptor.js';

const TABLE_START = 8;
const TABLE_END = 64;

export function patchBootInfoTable(image: Uint8Array, path: string, sector: number): Uint8Array {
  if (image.length < TABLE_END) {
    throw new ImageError('iso.boot-image-small', `Cannot write a boot info table into "${path}": it is ${image.length} bytes, at least 64 are needed`, {
      hint: 'give an isolinux.bin-like image or leave bootInfoTable off',
    });
  }
  const out = new Uint8Array(image);
  const view = new DataView(out.buffer);
  let sum = 0;
  for (let at = TABLE_END; at < out.length; at += 4) {
    const word = at + 4 <= out.length ? view.getUint32(at, true) : [0, 1, 2, 3].reduce((w, k) => w + ((out[at + k] ?? 0) << (8 * k)), 0);
    sum = (sum + word) >>> 0;
  }
  out.fill(0, TABLE_START, TABLE_END);
  view.setUint32(8, FIRST_DESCRIPTOR_SECTOR, true);
  view.setUint32(12, sector, true);
  view.setUint32(16, out.length, true);
  view.setUint32(20, sum, true);
  return out;
}
