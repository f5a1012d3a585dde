import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRegistration } from '../../src/nix/registration.js';
import { buildStoreDatabase, NIX_SCHEMA_VERSION } from '../../src/nix/store-db.js';
import { runOk, tempDir } from '../helpers/run.js';
import { exampleToplevel } from '../helpers/example.js';

test('real Nix reads our store database: same closure, references and hashes as the host store', async () => {
  const toplevel = exampleToplevel('dbtest');
  const paths = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.trim().split('\n');
  const registration = runOk('nix-store', ['--dump-db', ...paths]).stdout;
  const records = parseRegistration(registration, 'dump-db');
  const tmp = tempDir('storedb');
  try {
    const db = join(tmp.path, 'nix/var/nix/db');
    mkdirSync(db, { recursive: true });
    writeFileSync(join(db, 'db.sqlite'), await buildStoreDatabase(records, 1));
    writeFileSync(join(db, 'schema'), NIX_SCHEMA_VERSION);
    const store = `local?root=${tmp.path}`;
    const ours = runOk('nix-store', ['--store', store, '--query', '--requisites', toplevel]).stdout.trim().split('\n').sort();
    assert.deepEqual(ours, [...paths].sort());
    for (const path of paths) {
      const theirs = runOk('nix-store', ['--query', '--references', path]).stdout.trim().split('\n').sort();
      const mine = runOk('nix-store', ['--store', store, '--query', '--references', path]).stdout.trim().split('\n').sort();
      assert.deepEqual(mine, theirs, `references of ${path}`);
      assert.equal(
        runOk('nix-store', ['--store', store, '--query', '--hash', path]).stdout,
        runOk('nix-store', ['--query', '--hash', path]).stdout,
      );
    }
    assert.equal(runOk('nix-store', ['--store', store, '--dump-db', ...paths]).stdout.split('\n').length, registration.split('\n').length);
  } finally {
    tmp.remove();
  }
});

test('the database bytes are reproducible and independent of record order', async () => {
  const toplevel = exampleToplevel('dbtest');
  const paths = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.trim().split('\n');
  const records = parseRegistration(runOk('nix-store', ['--dump-db', ...paths]).stdout, 'dump-db');
  const a = await buildStoreDatabase(records, 1);
  const b = await buildStoreDatabase([...records].reverse(), 1);
  const hash = (x: Uint8Array): string => createHash('sha256').update(x).digest('hex');
  assert.equal(hash(a), hash(b));
  assert.notEqual(hash(a), hash(await buildStoreDatabase(records, 2)));
});
