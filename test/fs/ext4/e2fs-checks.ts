/** Checks of an ext4 image with e2fsprogs, shared by the ext4 tests. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk } from '../../helpers/run.js';

/** What `e2fsck -fn` says beyond its five pass lines and the summary, and a failing exit status. */
export function e2fsckFindings(image: string): string[] {
  const result = run('e2fsck', ['-fn', image]);
  const findings = result.stdout.split('\n').filter((l) => l !== '' && !/^Pass \d/.test(l) && !/ files \(.*\), .* blocks$/.test(l));
  return result.status === 0 ? findings : [`e2fsck exited ${result.status}`, ...findings, ...result.stderr.split('\n').filter((l) => l !== '')];
}

/** e2fsck -fn must pass with only its five pass lines and the summary. */
export function assertFsckClean(image: string): void {
  const findings = e2fsckFindings(image);
  assert.deepEqual(findings, [], `e2fsck reported:\n${findings.join('\n')}`);
}

/** Each directory's raw blocks (its index, its entries, their checksums), read by debugfs. */
export function directoryBytes(image: string, dirs: readonly string[], scratch: string): Buffer[] {
  const commands = dirs.map((d, i) => `dump "${d}" ${join(scratch, `dir-${i}`)}`).join('\n');
  writeFileSync(join(scratch, 'dump-cmds'), `${commands}\n`);
  runOk('debugfs', ['-f', join(scratch, 'dump-cmds'), image]);
  return dirs.map((_, i) => readFileSync(join(scratch, `dir-${i}`)));
}

/**
 * `e2fsck -D` would leave these directories as they are. e2fsck refuses -D with -n, so a
 * copy is rebuilt with -fyD (which rewrites every directory its own way: hashed with a
 * fifth of each leaf free, or compact) and each directory's bytes are compared.
 */
export function assertNothingToOptimise(image: string, dirs: readonly string[], scratch: string): void {
  const copy = join(scratch, 'optimised.img');
  runOk('cp', ['--sparse=always', image, copy]);
  const fsck = run('e2fsck', ['-fyD', copy]);
  assert.ok(fsck.status <= 1, `e2fsck -fyD failed:\n${fsck.stdout}${fsck.stderr}`);
  const before = directoryBytes(image, dirs, scratch);
  const after = directoryBytes(copy, dirs, scratch);
  dirs.forEach((d, i) => {
    assert.ok(before[i]!.equals(after[i]!), `e2fsck -D rewrites ${d} (${before[i]!.length} bytes, then ${after[i]!.length})`);
  });
}
