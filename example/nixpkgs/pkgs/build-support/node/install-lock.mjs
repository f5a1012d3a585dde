// The stand-in's importNpmLock builder step: unpacks every package of package-lock.json
// (v2/v3) that runs on linux-x64-glibc into node_modules at the lockfile's path.
// argv: <package-lock.json> <directory of fetched tarballs, named by lockfile path> <output>
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [lockFile, tarballs, out] = process.argv.slice(2);
const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
const fits = (list, value) => list === undefined || list.includes(value) || list.every((v) => v.startsWith('!') && v !== `!${value}`);
for (const [path, entry] of Object.entries(lock.packages)) {
  if (path === '' || entry.link) continue;
  if (!fits(entry.os, 'linux') || !fits(entry.cpu, 'x64') || !fits(entry.libc, 'glibc')) continue;
  const target = join(out, path);
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', join(tarballs, path.replaceAll('/', '+')), '-C', target, '--strip-components=1']);
}
