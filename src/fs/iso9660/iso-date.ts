/** The two date forms of ISO 9660: 7 bytes in directory records, 17 characters in volume descriptors. */

/** ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second, offset from UTC in 15 minutes. */
export function recordDate(seconds: number): Uint8Array {
  const d = new Date(seconds * 1000);
  const year = Math.min(Math.max(d.getUTCFullYear() - 1900, 0), 255);
  return Uint8Array.of(year, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0);
}

/** ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" in ASCII digits, then the UTC offset byte. */
export function volumeDate(seconds: number): Uint8Array {
  const d = new Date(seconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const text = `${String(d.getUTCFullYear()).padStart(4, '0')}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`
    + `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}00`;
  const out = new Uint8Array(17);
  for (let i = 0; i < 16; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** "Not specified": sixteen '0' digits and a zero offset. */
export function unsetVolumeDate(): Uint8Array {
  const out = new Uint8Array(17).fill(0x30);
  out[16] = 0;
  return out;
}
