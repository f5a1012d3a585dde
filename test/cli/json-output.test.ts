/**
 * What a script gets: --json's document (checked against its schema and against the files
 * themselves), SHA256SUMS beside every image (checked by sha256sum -c), and the summary on
 * stderr. One run builds three formats that differ where it matters: raw-efi (sparse, GPT,
 * UEFI), amazon (a side file, BIOS on GPT) and linode (compressed, no partition table).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { jsonReportSchema, type JsonReport } from '../../src/cli/json-report.js';
import { formatBytes } from '../../src/cli/units.js';
import { validate, type JsonSchema } from '../../src/plan/validate.js';
import { readAt, writeAt } from '../container/fixtures.js';
import { CLI, REPO, exampleToplevel } from '../helpers/example.js';
import { run, runOk, tempDir, type RunResult } from '../helpers/run.js';

const FORMATS = ['raw-efi', 'amazon', 'linode'] as const;
const EXPECTED = {
  'raw-efi': { firmware: 'uefi', partitionTable: 'gpt', sideFiles: [] },
  amazon: { firmware: 'bios', partitionTable: 'gpt', sideFiles: ['nix-support/image-info.json'] },
  linode: { firmware: 'none', partitionTable: 'none', sideFiles: [] },
} as const;

const tmp = tempDir('json-output');
process.on('exit', () => tmp.remove());
const out = join(tmp.path, 'out');

let firstRun: { result: RunResult; report: JsonReport; toplevel: string } | undefined;

/** The run the tests below look at (built once). */
function built(): NonNullable<typeof firstRun> {
  if (firstRun === undefined) {
    const toplevel = exampleToplevel('json-host');
    const result = runOk('node', [CLI, '--toplevel', toplevel, '-f', FORMATS.join(','), '--json', '-o', out]);
    firstRun = { result, report: JSON.parse(result.stdout) as JsonReport, toplevel };
  }
  return firstRun;
}

function sha256sum(path: string): string {
  return runOk('sha256sum', [path]).stdout.split(' ')[0]!;
}

const schema = jsonReportSchema as unknown as JsonSchema;

test('--json prints one document on stdout, valid against its schema, the images in the order of -f', () => {
  const { result, report } = built();
  assert.equal(validate(report, schema), undefined);
  assert.equal(result.stdout, `${JSON.stringify(report, null, 2)}\n`, 'nothing but the document on stdout');
  assert.deepEqual(report.images.map((i) => i.format), [...FORMATS]);
});

test('each image\'s fields are what the files and the system say', () => {
  const { report, toplevel } = built();
  const version = readFileSync(join(toplevel, 'nixos-version'), 'utf8').trim();
  const bootspec = JSON.parse(readFileSync(join(toplevel, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'];
  for (const image of report.images) {
    const expected = EXPECTED[image.format as keyof typeof EXPECTED];
    const dir = join(out, image.format);
    assert.equal(dirname(image.path), dir);
    assert.equal(image.size, statSync(image.path).size, image.path);
    assert.equal(image.sha256, sha256sum(image.path), image.path);
    assert.equal(image.firmware, expected.firmware, image.format);
    assert.equal(image.partitionTable, expected.partitionTable, image.format);
    assert.equal(image.toplevel, toplevel);
    assert.equal(image.label, version);
    assert.equal(image.system, bootspec.system);
    assert.equal(image.checksums, join(dir, 'SHA256SUMS'));
    assert.ok(existsSync(image.checksums));
    assert.deepEqual(image.sideFiles.map((f) => relative(dir, f.path)), expected.sideFiles);
    for (const file of image.sideFiles) {
      assert.equal(file.size, statSync(file.path).size, file.path);
      assert.equal(file.sha256, sha256sum(file.path), file.path);
    }
  }
  // The partition table as sfdisk reads it from the raw disk.
  const raw = report.images.find((i) => i.format === 'raw-efi')!;
  assert.equal(JSON.parse(runOk('sfdisk', ['--json', raw.path]).stdout).partitiontable.label, 'gpt');
  // The side file is amazon's image-info.json naming the image.
  const amazon = report.images.find((i) => i.format === 'amazon')!;
  assert.equal(JSON.parse(readFileSync(amazon.sideFiles[0]!.path, 'utf8')).file, amazon.path);
});

test('the validator refuses documents that break the schema (negative control)', () => {
  const { report } = built();
  const broken = (change: (image: Record<string, unknown>) => void): unknown => {
    const copy = JSON.parse(JSON.stringify(report)) as { images: Record<string, unknown>[] };
    change(copy.images[1]!);
    return copy;
  };
  assert.match(validate(broken((i) => { i['sha256'] = String(i['sha256']).toUpperCase(); }), schema)!, /\$\.images\[1\]\.sha256: "[0-9A-F]+\.\.\. does not match/);
  assert.match(validate(broken((i) => { i['firmware'] = 'efi'; }), schema)!, /\$\.images\[1\]\.firmware: expected one of "bios", "uefi", "none", got "efi"/);
  assert.match(validate(broken((i) => { i['size'] = -1; }), schema)!, /\$\.images\[1\]\.size: expected at least 0/);
  assert.match(validate(broken((i) => { delete i['label']; }), schema)!, /\$\.images\[1\]: missing required field "label"/);
  assert.match(validate(broken((i) => { i['colour'] = 'blue'; }), schema)!, /unknown field "colour"/);
  assert.match(validate(broken((i) => { (i['sideFiles'] as Record<string, unknown>[])[0]!['path'] = 'relative'; }), schema)!, /sideFiles\[0\]\.path/);
  assert.match(validate({ version: 1, images: [] }, schema)!, /expected at least 1 items/);
});

test('docs/json-output.schema.json is the schema the document is checked with', () => {
  const docs = JSON.parse(readFileSync(join(REPO, 'docs/json-output.schema.json'), 'utf8'));
  assert.deepEqual(docs, JSON.parse(JSON.stringify(jsonReportSchema)));
});

test('stderr ends with one summary line per image: format, time taken, path and size', () => {
  const { result, report } = built();
  const lines = result.stderr.trimEnd().split('\n');
  const summary = lines.slice(-FORMATS.length);
  report.images.forEach((image, i) => {
    const match = /^nixos-generate: built (\S+) in (?:\d+\.\d s|\d+ min \d\d s): (.+) \((.+)\)$/.exec(summary[i]!);
    assert.ok(match !== null, summary[i]);
    assert.deepEqual(match.slice(1), [image.format, image.path, formatBytes(image.size)]);
  });
  assert.ok(!result.stderr.includes('\r'), 'no redrawn line when stderr is not a terminal');
});

test('SHA256SUMS beside each image passes sha256sum -c, and fails once a byte changes', () => {
  const { report } = built();
  for (const image of report.images) {
    const dir = dirname(image.path);
    const names = [image.path, ...image.sideFiles.map((f) => f.path)].map((p) => relative(dir, p)).sort();
    const checked = runOk('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: dir });
    assert.deepEqual(checked.stdout.trim().split('\n').sort(), names.map((n) => `${n}: OK`));
  }
  // Negative control: one byte flipped in the middle of an image, then in a side file.
  for (const [image, path] of [[report.images[0]!, report.images[0]!.path], [report.images[1]!, report.images[1]!.sideFiles[0]!.path]] as const) {
    const at = Math.floor(statSync(path).size / 2);
    const [byte] = readAt(path, at, 1);
    writeAt(path, at, Uint8Array.of(byte! ^ 0xff));
    const failed = run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dirname(image.path) });
    assert.equal(failed.status, 1);
    assert.ok(failed.stdout.includes(`${relative(dirname(image.path), path)}: FAILED\n`), failed.stdout);
  }
});

test('the same inputs give the same SHA256SUMS and the same document on a second run', () => {
  const { result, report } = built();
  const before = report.images.map((i) => readFileSync(i.checksums, 'utf8'));
  const again = runOk('node', [CLI, '--toplevel', report.images[0]!.toplevel, '-f', FORMATS.join(','), '--json', '-o', out]);
  assert.equal(again.stdout, result.stdout);
  assert.deepEqual(report.images.map((i) => readFileSync(i.checksums, 'utf8')), before);
  for (const image of report.images) runOk('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: dirname(image.path) });
});

test('a build that cannot put its image in place stops before writing: one line, no temporary file, the directory as it was', () => {
  const { toplevel } = built();
  const blocked = join(tmp.path, 'blocked');
  // A directory where the image goes, and a SHA256SUMS from an earlier run.
  mkdirSync(join(blocked, 'nixos.img'), { recursive: true });
  const earlier = `${'0'.repeat(64)}  nixos.img\n`;
  writeFileSync(join(blocked, 'SHA256SUMS'), earlier);
  const result = run('node', [CLI, '--toplevel', toplevel, '-f', 'raw-efi', '-o', blocked]);
  assert.equal(result.status, 1, result.stderr);
  const errors = result.stderr.split('\n').filter((l) => l.startsWith('nixos-generate: error:'));
  assert.deepEqual(errors, [`nixos-generate: error: Cannot write "${join(blocked, 'nixos.img')}": a directory is in the way; remove it or choose another place with -o`]);
  assert.equal(result.stdout, '');
  assert.doesNotMatch(result.stderr, /nixos-generate: write /, 'nothing was written');
  assert.deepEqual(readdirSync(blocked).sort(), ['SHA256SUMS', 'nixos.img']);
  assert.equal(readFileSync(join(blocked, 'SHA256SUMS'), 'utf8'), earlier);
  assert.deepEqual(readdirSync(join(blocked, 'nixos.img')), []);
});
