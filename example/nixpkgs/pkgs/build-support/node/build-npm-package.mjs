// The stand-in's buildNpmPackage steps, run with the build machine's node:
//   bins <dir>: node_modules/.bin/<name> wrappers (the packages' `bin` entries, run by node)
//   script <dir> <name>: prints the package.json script `name`
//   install <dir> <out> <lock>: copies what npm pack would (package.json `files`, package.json),
//     the production node_modules (no dev packages), and writes <out>/bin wrappers
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [command, dir, ...rest] = process.argv.slice(2);
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const shell = process.env.shell;
const node = process.env.nodeProgram;
const binsOf = (pkg) => (typeof pkg.bin === 'string' ? { [pkg.name.split('/').pop()]: pkg.bin } : pkg.bin ?? {});
const wrapper = (file, script) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `#!${shell}\nexec ${node} ${script} "$@"\n`);
  chmodSync(file, 0o555);
};

if (command === 'bins') {
  const lock = readJson(join(dir, 'package-lock.json'));
  for (const path of Object.keys(lock.packages)) {
    if (path === '' || !existsSync(join(dir, path, 'package.json'))) continue;
    for (const [name, file] of Object.entries(binsOf(readJson(join(dir, path, 'package.json'))))) {
      wrapper(join(dir, 'node_modules/.bin', name), join(dir, path, file));
    }
  }
} else if (command === 'script') {
  process.stdout.write(readJson(join(dir, 'package.json')).scripts?.[rest[0]] ?? '');
} else if (command === 'install') {
  const [out] = rest;
  const pkg = readJson(join(dir, 'package.json'));
  const lock = readJson(join(dir, 'package-lock.json'));
  const target = join(out, 'lib/node_modules', pkg.name);
  mkdirSync(target, { recursive: true });
  for (const entry of [...(pkg.files ?? []), 'package.json']) {
    if (existsSync(join(dir, entry))) cpSync(join(dir, entry), join(target, entry), { recursive: true });
  }
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || !existsSync(join(dir, path))) continue;
    cpSync(join(dir, path), join(target, path), { recursive: true });
  }
  for (const [name, file] of Object.entries(binsOf(pkg))) wrapper(join(out, 'bin', name), join(target, file));
} else {
  throw new Error(`unknown command ${command}`);
}
