/** Sizes, rates and durations as people read them on stderr (binary units, as the README uses). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** The unit a byte count reads best in, as a power of 1024. */
function scaleOf(bytes: number): number {
  let scale = 0;
  while (scale < UNITS.length - 1 && Math.abs(bytes) >= 1024 ** (scale + 1)) scale++;
  return scale;
}

function inScale(bytes: number, scale: number): string {
  return scale === 0 ? String(Math.round(bytes)) : (bytes / 1024 ** scale).toFixed(1);
}

/** "512 B", "12.3 KiB", "905.0 MiB", "1.2 GiB". */
export function formatBytes(bytes: number): string {
  const scale = scaleOf(bytes);
  return `${inScale(bytes, scale)} ${UNITS[scale]}`;
}

/** "408.2/905.0 MiB": both counts in the unit of the total, so the digits stay put. */
export function formatBytesOf(done: number, total: number): string {
  const scale = scaleOf(total);
  return `${inScale(done, scale)}/${inScale(total, scale)} ${UNITS[scale]}`;
}

/** "85.2 MiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A time left as a clock, "0:07" or "1:02:03"; whole seconds, rounded up. */
export function formatClock(seconds: number): string {
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A time taken, "0.8 s", "12.3 s", "2 min 05 s". */
export function formatDuration(milliseconds: number): string {
  const seconds = milliseconds / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}
