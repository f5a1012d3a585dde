import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignFatNames, basisName, decodeTreeName, exactShortName, foldCase } from '../../../src/fs/fat/names.js';
import { treeName } from './fat-tools.js';

const shorts = (names: string[]): string[] => assignFatNames(names, '/d').map((n) => n.short);

test('upper-case 8.3 names are stored as they are, without a long name', () => {
  assert.deepEqual(exactShortName('BOOTX64.EFI'), { short: 'BOOTX64 EFI', caseFlags: 0 });
  assert.deepEqual(exactShortName('EFI'), { short: 'EFI        ', caseFlags: 0 });
  assert.deepEqual(exactShortName("A#$%&'()-"), undefined, 'nine characters do not fit the base');
  assert.deepEqual(exactShortName("#$%&'()-.@^_"), { short: "#$%&'()-@^_", caseFlags: 0 });
  const [name] = assignFatNames(['BOOTX64.EFI'], '/EFI/BOOT');
  assert.equal(name!.long, undefined);
});

test('all-lower-case parts use the NT case bits instead of a long name', () => {
  assert.deepEqual(exactShortName('readme.txt'), { short: 'README  TXT', caseFlags: 0x18 });
  assert.deepEqual(exactShortName('README.txt'), { short: 'README  TXT', caseFlags: 0x10 });
  assert.deepEqual(exactShortName('readme.TXT'), { short: 'README  TXT', caseFlags: 0x08 });
  assert.deepEqual(exactShortName('boot'), { short: 'BOOT       ', caseFlags: 0x08 });
  assert.deepEqual(exactShortName('x64.1'), { short: 'X64     1  ', caseFlags: 0x08 });
});

test('mixed case, long, dotted or unusual names need a long name', () => {
  for (const name of ['Readme.txt', 'LONGNAME9.TXT', 'a.b.c', 'A+B', 'with space', '.hidden', 'x.long', 'Ünï', 'NAME.']) {
    assert.equal(exactShortName(name), undefined, name);
  }
});

test('the basis name drops spaces and dots, maps other characters to "_" and records loss', () => {
  assert.deepEqual(basisName('Readme.txt'), { base: 'README', ext: 'TXT', lossy: false });
  assert.deepEqual(basisName('Some Long Name.txt'), { base: 'SOMELONG', ext: 'TXT', lossy: true });
  assert.deepEqual(basisName('.bashrc'), { base: 'BASHRC', ext: '', lossy: true });
  assert.deepEqual(basisName('a.b.c'), { base: 'AB', ext: 'C', lossy: true });
  assert.deepEqual(basisName('A+B=C[1].tar.gz'), { base: 'A_B_C_1_', ext: 'GZ', lossy: true });
  assert.deepEqual(basisName('Ünïcødé.jpeg'), { base: '_N_C_D_', ext: 'JPE', lossy: true });
});

test('aliases get the first free numeric tail, skipping names already in the directory', () => {
  assert.deepEqual(shorts(['Some Long Name 1.txt', 'Some Long Name 2.txt']), ['SOMELO~1TXT', 'SOMELO~2TXT']);
  // A real file called SOMELO~1.TXT keeps its name; the alias moves on, whatever the order.
  assert.deepEqual(shorts(['SOMELO~1.TXT', 'Some Long Name.txt']), ['SOMELO~1TXT', 'SOMELO~2TXT']);
  assert.deepEqual(shorts(['Some Long Name.txt', 'SOMELO~1.TXT']), ['SOMELO~2TXT', 'SOMELO~1TXT']);
  // A lower-case exact name also takes its slot before any alias.
  assert.deepEqual(shorts(['Some Long Name.txt', 'somelo~1.txt']), ['SOMELO~2TXT', 'SOMELO~1TXT']);
  // Lossless mixed-case names keep their plain 8.3 form unless it is taken.
  assert.deepEqual(shorts(['Readme.txt']), ['README  TXT']);
  assert.deepEqual(shorts(['READ ME.txt', 'Readme.txt']), ['README~1TXT', 'README  TXT']);
});

test('a thousand similar names get a thousand distinct aliases with growing tails', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `file number ${String(i).padStart(4, '0')} with a long name.txt`);
  const result = shorts(names);
  assert.equal(new Set(result).size, 1000);
  assert.equal(result[0], 'FILENU~1TXT');
  assert.equal(result[8], 'FILENU~9TXT');
  assert.equal(result[9], 'FILEN~10TXT');
  assert.equal(result[99], 'FILE~100TXT');
  assert.equal(result[999], 'FIL~1000TXT');
  for (const short of result) assert.equal(short.length, 11);
});

test('names that differ only in case cannot share a directory', () => {
  assert.throws(() => assignFatNames(['Foo.txt', 'FOO.TXT'], '/dir'), {
    code: 'fat.name-collision',
    message: /"\/dir\/Foo\.txt" and "\/dir\/FOO\.TXT"/,
  });
  assert.throws(() => assignFatNames(['straße', 'STRASSE', 'STRAßE'], '/d'), { code: 'fat.name-collision' });
  assert.equal(foldCase('ünï'), 'ÜNÏ');
});

test('tree names are decoded from UTF-8 and checked against what FAT can hold', () => {
  assert.equal(decodeTreeName(treeName('日本語.txt'), '/x'), '日本語.txt');
  assert.throws(() => decodeTreeName('\xff\xfe', '/bad'), { code: 'fat.name-encoding', message: /"\/bad"/ });
  for (const bad of ['a:b', 'a*b', 'a?b', 'a<b', 'a>b', 'a|b', 'a"b', 'a\\b', 'tab\there', 'dot.', 'space ', '.', '..']) {
    assert.throws(() => decodeTreeName(bad, `/${bad}`), { code: 'fat.name-invalid' }, JSON.stringify(bad));
  }
  assert.equal(decodeTreeName('x'.repeat(255), '/long').length, 255);
  assert.throws(() => decodeTreeName('x'.repeat(256), '/long'), { code: 'fat.name-invalid', message: /256 UTF-16 units/ });
});
