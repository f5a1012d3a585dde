/** The CLI's V8 flags: one list, which bin.ts's shebang names and the benchmarks start their builders with. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';
import { CLI } from '../helpers/example.js';

test('the shebang of bin.ts, and of the bin.js it compiles to, starts node with NODE_FLAGS', () => {
  const expected = `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`;
  for (const file of ['src/bin.ts', CLI]) {
    assert.equal(readFileSync(file, 'utf8').split('\n')[0], expected, file);
  }
});
