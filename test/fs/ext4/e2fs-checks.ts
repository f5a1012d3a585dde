/** Checks of an ext4 image with e2fsprogs, shared by the ext4 tests. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk } from '../../helpers/run.js';

/** e2fsck -fn must pass with only its five pass lines and the summary. */
export function assertFsckClean(image: string): void {
  const result = run('e2fsck', ['-fn', image]);
  assert.equal(result.status, 0, `e2fsck failed:\n${result.stdout}${result.stderr}`);
  const unexpected = result.stdout.split('\n').filter((l) => l !== '' && !/^Pass \d/.test(l) && !/ files \(.*\), .* blocks$/.test(l));
  assert.deepEqual(unexpected, [], `e2fsck reported:\n${result.stdout}`);
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
