import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNixBase32, formatRegistration, normaliseNarHash, parseRegistration } from '../../src/nix/registration.js';
import { join } from 'node:path';
import { exampleToplevel } from '../helpers/example.js';
import { runOk, tempDir } from '../helpers/run.js';

test('nix base-32, hex and SRI hashes normalise to the same sha256:<hex>', () => {
  const hex = runOk('nix-hash', ['--type', 'sha256', '--flat', '/etc/hostname']).stdout.trim();
  const base32 = runOk('nix-hash', ['--type', 'sha256', '--to-base32', hex]).stdout.trim();
  const sri = `sha256-${Buffer.from(hex, 'hex').toString('base64')}`;
  for (const form of [hex, `sha256:${hex}`, base32, `sha256:${base32}`, sri]) {
    assert.equal(normaliseNarHash(form), `sha256:${hex}`, form);
  }
  assert.throws(() => normaliseNarHash('md5:abc'), /unrecognised NAR hash/);
  assert.equal(decodeNixBase32('0'.repeat(52), 32).every((b) => b === 0), true);
});

test('registration records parse and format back to closureInfo form', () => {
  const text = [
    '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a', '0'.repeat(64), '120', '', '2',
    '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a', '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b',
    '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b', '1'.repeat(64), '8', '/nix/store/cccccccccccccccccccccccccccccccc-c.drv', '0',
  ].join('\n');
  const records = parseRegistration(`${text}\n`, 'test');
  assert.equal(records.length, 2);
  assert.deepEqual(records[0]!.references, ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a', '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b']);
  assert.equal(records[1]!.deriver, '/nix/store/cccccccccccccccccccccccccccccccc-c.drv');
  assert.equal(records[1]!.narHash, `sha256:${'1'.repeat(64)}`);
  // Formatted as closureInfo writes it: no deriver.
  assert.equal(formatRegistration(records), `${text.replace('0'.repeat(64), `sha256:${'0'.repeat(64)}`).replace('1'.repeat(64), `sha256:${'1'.repeat(64)}`).replace('/nix/store/cccccccccccccccccccccccccccccccc-c.drv', '')}\n`);
});

test('a formatted registration is what nix-store --load-db reads: the closure and its references come back', () => {
  const tmp = tempDir('load-db');
  try {
    const toplevel = exampleToplevel('registration-host');
    const paths = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.split('\n').filter(Boolean);
    const records = parseRegistration(runOk('nix-store', ['--dump-db', ...paths]).stdout, 'dump-db');
    const store = join(tmp.path, 'store');
    runOk('nix-store', ['--store', store, '--load-db'], { input: formatRegistration(records) });
    const loaded = runOk('nix-store', ['--store', store, '--query', '--requisites', toplevel]).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(loaded, [...paths].sort());
    assert.equal(runOk('nix-store', ['--store', store, '--query', '--hash', toplevel]).stdout, runOk('nix-store', ['--query', '--hash', toplevel]).stdout);
  } finally {
    tmp.remove();
  }
});

test('a truncated registration is reported with the line', () => {
  assert.throws(() => parseRegistration(`/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a\nsha256:${'0'.repeat(64)}\n`, 'dump'), /Cannot read the closure registration from dump: it ends where a NAR size was expected/);
});
