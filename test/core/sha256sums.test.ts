/** SHA256SUMS text is what sha256sum writes and checks, odd names included, in a fixed order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256sumsText } from '../../src/core/sha256sums.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { sha256Hex } from '../../src/archive/sinks.js';

test('sha256sum -c accepts the text, with backslashes, line breaks and subdirectories in names', () => {
  const tmp = tempDir('sha256sums');
  try {
    const names = ['nixos.img', 'nix-support/image-info.json', 'back\\slash', 'line\nbreak', 'carriage\rreturn', 'space name'];
    const entries = names.map((name, i) => {
      const bytes = new TextEncoder().encode(`file ${i}`);
      mkdirSync(dirname(join(tmp.path, name)), { recursive: true });
      writeFileSync(join(tmp.path, name), bytes);
      return { name, sha256: sha256Hex(bytes) };
    });
    const text = sha256sumsText(entries);
    writeFileSync(join(tmp.path, 'SHA256SUMS'), text);
    const checked = runOk('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: tmp.path });
    assert.equal(checked.stdout.split('\n').filter((l) => l.endsWith(': OK')).length, names.length, checked.stdout);
    // What sha256sum itself writes for the same files, in the same order.
    const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.equal(text, runOk('sha256sum', sorted, { cwd: tmp.path }).stdout);
    // Negative control: a changed file fails the check.
    writeFileSync(join(tmp.path, 'nixos.img'), 'changed');
    assert.equal(run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: tmp.path }).status, 1);
  } finally {
    tmp.remove();
  }
});

test('the lines are sorted by name, whatever the order given', () => {
  const a = { name: 'b', sha256: '0'.repeat(64) };
  const b = { name: 'a/z', sha256: '1'.repeat(64) };
  assert.equal(sha256sumsText([a, b]), sha256sumsText([b, a]));
  assert.equal(sha256sumsText([a, b]), `${'1'.repeat(64)}  a/z\n${'0'.repeat(64)}  b\n`);
  assert.throws(() => sha256sumsText([{ name: 'x', sha256: 'ABC' }]), /not a SHA-256/);
});
