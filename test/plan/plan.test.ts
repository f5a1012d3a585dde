import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPlan, imagePlanSchema, parsePlanJson } from '../../src/plan/index.js';
import { defaultPlan } from '../../src/formats/format.js';
import { findDiskFormat } from '../../src/formats/registry.js';

const TOPLEVEL = '/nix/store/5lvsfcyh5kj8c825l525nmbc7a13a62g-nixos-system-foo-25.05pre-example';
const GRUB = '/nix/store/vi15dvrcnmcvnzswg5gy6wjy995x6aaj-grub-2.06-x86_64-efi';

function validPlan(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(defaultPlan(findDiskFormat('raw-efi'), {
    toplevel: TOPLEVEL, bootloader: { type: 'grub', bios: null, efi: { package: GRUB }, timeout: 0 }, diskSize: 'auto', names: { label: 'x', system: 'x86_64-linux' },
  })));
}

test('the default raw-efi plan passes the schema', () => {
  assert.equal(checkPlan(validPlan(), 'test').format, 'raw-efi');
});

test('schema errors name the field, the expected and the actual value', () => {
  const plan = validPlan();
  (plan['partitionTable'] as { partitions: Record<string, unknown>[] }).partitions[1]!['size'] = -3;
  assert.throws(() => checkPlan(plan, 'plan.json'), /Cannot use the image plan from plan.json: \$\.partitionTable\.partitions\[1\]\.size: expected at least 512, got -3/);
  const unknown = validPlan();
  unknown['colour'] = 'blue';
  assert.throws(() => checkPlan(unknown, 'x'), /\$: unknown field "colour"/);
  const badBoot = validPlan();
  badBoot['bootloader'] = { type: 'grub', bios: null, efi: { package: 'not-a-store-path' }, timeout: 0 };
  assert.throws(() => checkPlan(badBoot, 'x'), /\$\.bootloader\.efi\.package: "not-a-store-path" does not match/);
  const missing = validPlan();
  delete missing['output'];
  assert.throws(() => checkPlan(missing, 'x'), /\$: missing required field "output"/);
});

test('rules beyond the schema: one root, one boot partition, auto only last, sector alignment', () => {
  const plan = validPlan();
  const parts = (plan['partitionTable'] as { partitions: Record<string, unknown>[] }).partitions;
  parts[0]!['size'] = 'auto';
  assert.throws(() => checkPlan(plan, 'x'), /only the last partition on the disk may have size "auto"/);
  const odd = validPlan();
  (odd['partitionTable'] as { partitions: Record<string, unknown>[] }).partitions[0]!['start'] = 1000;
  assert.throws(() => checkPlan(odd, 'x'), /starts at 1000, not a multiple of 512/);
  const noRoot = validPlan();
  (noRoot['partitionTable'] as { partitions: Record<string, unknown>[] }).partitions[1]!['filesystem'] = null;
  assert.throws(() => checkPlan(noRoot, 'x'), /exactly one partition with the root filesystem, found 0/);
  const biosOnEfi = validPlan();
  biosOnEfi['bootloader'] = { type: 'grub', bios: { package: GRUB }, efi: null, timeout: 0 };
  assert.throws(() => checkPlan(biosOnEfi, 'x'), /GRUB for BIOS on a GPT disk needs a bios-boot partition/);
  const noOptions = validPlan();
  noOptions['output'] = { container: 'vhd', fileName: 'x.vhd', compression: 'none' };
  assert.throws(() => checkPlan(noOptions, 'x'), /output\.vhd is required for the vhd container/);
  const compressedOva = validPlan();
  compressedOva['output'] = { container: 'ova', fileName: 'x.ova', compression: 'gzip', virtualMachine: { name: 'n', memoryMiB: 1, cpus: 1 } };
  assert.throws(() => checkPlan(compressedOva, 'x'), /compression "gzip" applies to raw, qcow2 and vma containers, not ova/);
});

test('malformed JSON is reported with its origin', () => {
  assert.throws(() => parsePlanJson('{', '/nix/store/x-image-plan.json'), /Cannot read the image plan from \/nix\/store\/x-image-plan.json/);
});

test('docs/image-plan.schema.json is the schema the code validates with', () => {
  const docs = JSON.parse(readFileSync(join(process.cwd(), 'docs/image-plan.schema.json'), 'utf8'));
  assert.deepEqual(docs, JSON.parse(JSON.stringify(imagePlanSchema)));
});

test('the validator checks maximum and the schema every other field of a map must match', async () => {
  const { validate } = await import('../../src/plan/validate.js');
  const schema = { type: 'object', additionalProperties: { type: 'object', required: ['n'], properties: { n: { type: 'integer', minimum: 1, maximum: 19 } } } } as const;
  assert.equal(validate({ a: { n: 3 }, b: { n: 19 } }, schema), undefined);
  assert.equal(validate({ a: { n: 20 } }, schema), '$.a.n: expected at most 19, got 20');
  assert.equal(validate({ a: {} }, schema), '$.a: missing required field "n"');
});
