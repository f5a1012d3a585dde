/**
 * A Nix store database (schema version 10, the version every Nix since 2.0 uses) for the
 * closure, written in-process with SQLite compiled to WebAssembly. Registration times
 * are SOURCE_DATE_EPOCH and rows go in sorted path order, so the bytes are reproducible.
 */
import initSqlJs from 'sql.js';
import { ImageError } from '../core/errors.js';
import type { PathRegistration } from './registration.js';

export const NIX_SCHEMA_VERSION = '10';

// Same tables, indexes and trigger as Nix's own schema, so Nix opens it as its own.
const SCHEMA = `
CREATE TABLE ValidPaths (
  id integer primary key autoincrement not null,
  path text unique not null,
  hash text not null,
  registrationTime integer not null,
  deriver text,
  narSize integer,
  ultimate integer,
  sigs text,
  ca text
);
CREATE TABLE Refs (
  referrer integer not null,
  reference integer not null,
  primary key (referrer, reference),
  foreign key (referrer) references ValidPaths(id) on delete cascade,
  foreign key (reference) references ValidPaths(id) on delete restrict
);
CREATE INDEX IndexReferrer on Refs(referrer);
CREATE INDEX IndexReference on Refs(reference);
CREATE TRIGGER DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;
CREATE TABLE DerivationOutputs (
  drv integer not null,
  id text not null,
  path text not null,
  primary key (drv, id),
  foreign key (drv) references ValidPaths(id) on delete cascade
);
CREATE INDEX IndexDerivationOutputs on DerivationOutputs(path);
`;

let sqlite: ReturnType<typeof initSqlJs> | undefined;

/**
 * Starts compiling SQLite's WebAssembly (about 0.1 s), for a caller that will build a
 * store database later and waits for Nix meanwhile.
 */
export function prepareStoreDatabase(): void {
  sqlite ??= initSqlJs();
  sqlite.catch(() => undefined); // reported where the database is built
}

export async function buildStoreDatabase(records: readonly PathRegistration[], registrationTime: number): Promise<Uint8Array> {
  sqlite ??= initSqlJs();
  const SQL = await sqlite;
  const db = new SQL.Database();
  try {
    db.run(SCHEMA);
    db.run('BEGIN');
    const sorted = [...records].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const ids = new Map<string, number>();
    const insertPath = db.prepare('INSERT INTO ValidPaths (path, hash, registrationTime, deriver, narSize) VALUES (?, ?, ?, ?, ?)');
    sorted.forEach((r, i) => {
      // No deriver, as nixpkgs' images load closureInfo's registration, which has none (and
      // the same image comes out whether the closure was read from Nix or from closureInfo).
      insertPath.run([r.path, r.narHash, registrationTime, null, r.narSize]);
      ids.set(r.path, i + 1);
    });
    insertPath.free();
    const insertRef = db.prepare('INSERT OR IGNORE INTO Refs (referrer, reference) VALUES (?, ?)');
    for (const r of sorted) {
      for (const reference of [...r.references].sort()) {
        const target = ids.get(reference);
        if (target === undefined) {
          throw new ImageError('registration.incomplete', `Cannot register "${r.path}": it refers to "${reference}", which is not in the closure`);
        }
        insertRef.run([ids.get(r.path)!, target]);
      }
    }
    insertRef.free();
    db.run('COMMIT');
    return db.export();
  } finally {
    db.close();
  }
}
