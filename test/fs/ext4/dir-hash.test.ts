import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directoryHash, hashSeedWords } from '../../../src/fs/ext4/dir-hash.js';
import { runOk, tempDir } from '../../helpers/run.js';

const SEED = '00112233-4455-6677-8899-aabbccddeeff';

/** Names around the 32-byte chunk boundaries, 255 bytes, and bytes above 0x7f (hashed as signed chars). */
function sampleNames(): string[] {
  const names = ['a', 'entry-00001', 'lost+found', '\x80', '\xff\xfe', Buffer.from('ünïcödé', 'utf8').toString('latin1')];
  for (const length of [3, 4, 5, 31, 32, 33, 63, 64, 65, 200, 255]) {
    // Printable and high bytes only: debugfs splits its command line at blanks and quotes.
    names.push(Array.from({ length }, (_, i) => String.fromCharCode(0x80 + ((i * 37 + length) % 0x7f), 0x41 + (i % 26))).join('').slice(0, length));
  }
  return names;
}

test('the directory hash equals debugfs dx_hash (half_md4, signed chars) for names of every length and byte', () => {
  const tmp = tempDir('ext4-dirhash');
  try {
    const image = join(tmp.path, 'fs.img');
    runOk('truncate', ['-s', '8M', image]);
    runOk('mkfs.ext4', ['-q', '-F', image]);
    const names = sampleNames();
    // One debugfs run; the command file carries each name's own bytes.
    const commands = names.map((n) => `dx_hash -h half_md4 -s ${SEED} ${n}`).join('\n');
    const cmdFile = join(tmp.path, 'cmds');
    writeFileSync(cmdFile, Buffer.from(`${commands}\n`, 'latin1'));
    const out = runOk('debugfs', ['-f', cmdFile, image]).stdout;
    const theirs = [...out.matchAll(/is 0x([0-9a-f]+) \(minor 0x([0-9a-f]+)\)/g)].map((m) => [parseInt(m[1]!, 16), parseInt(m[2]!, 16)]);
    assert.equal(theirs.length, names.length, out);
    const seed = hashSeedWords(Buffer.from(SEED.replace(/-/g, ''), 'hex'));
    names.forEach((name, i) => {
      const ours = directoryHash(name, seed);
      assert.deepEqual([ours.hash, ours.minor], theirs[i], `hash of a ${name.length}-byte name`);
    });
  } finally {
    tmp.remove();
  }
});

test('an all-zero seed hashes with MD4\'s initial words, as e2fsprogs and the kernel do', () => {
  assert.deepEqual([...hashSeedWords(new Uint8Array(16))], [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
});
