/**
 * SHA256SUMS in the format `sha256sum` writes and `sha256sum -c` checks: one
 * "<hex>  <name>" line per file, names relative to the file's directory. Lines are sorted
 * by name (bytewise) so the same files give the same text on every run.
 */

export interface ChecksumEntry {
  /** Path relative to the directory SHA256SUMS is in, with "/" separators. */
  readonly name: string;
  /** Lower-case hex SHA-256. */
  readonly sha256: string;
}

export const SHA256SUMS = 'SHA256SUMS';

/** One line; a name with a backslash or a line break is escaped and the line starts with "\", as GNU coreutils does. */
function line(entry: ChecksumEntry): string {
  if (!/^[0-9a-f]{64}$/.test(entry.sha256)) throw new Error(`Internal error: "${entry.sha256}" is not a SHA-256 in hex`);
  const escaped = entry.name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `${escaped === entry.name ? '' : '\\'}${entry.sha256}  ${escaped}\n`;
}

export function sha256sumsText(entries: readonly ChecksumEntry[]): string {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  return sorted.map(line).join('');
}
