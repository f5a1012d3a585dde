/** Parsing and checking image plans. */
import { ImageError } from '../core/errors.js';
import { imagePlanSchema } from './schema.js';
import type { ImagePlan } from './types.js';
import { validate, type JsonSchema } from './validate.js';

export type * from './types.js';
export { imagePlanSchema } from './schema.js';

/** Validates a parsed plan against the schema and the rules a schema cannot say. */
export function checkPlan(value: unknown, origin: string): ImagePlan {
  const error = validate(value, imagePlanSchema as unknown as JsonSchema);
  if (error !== undefined) {
    throw new ImageError('plan.invalid', `Cannot use the image plan from ${origin}: ${error}`, {
      hint: 'see docs/image-plan.md for the fields',
    });
  }
  const plan = value as ImagePlan;
  const partitions = plan.partitionTable.partitions;
  const autos = partitions.filter((p) => p.size === 'auto');
  const last = [...partitions].sort((a, b) => a.start - b.start).at(-1)!;
  const fail = (message: string): never => {
    throw new ImageError('plan.invalid', `Cannot use the image plan from ${origin}: ${message}`, {
      hint: 'see docs/image-plan.md for the fields',
    });
  };
  if (autos.length > 1 || (autos.length === 1 && autos[0] !== last)) {
    fail('only the last partition on the disk may have size "auto"');
  }
  for (const p of partitions) {
    if (p.start % 512 !== 0) fail(`partition "${p.name}" starts at ${p.start}, not a multiple of 512`);
    if (typeof p.size === 'number' && p.size % 512 !== 0) fail(`partition "${p.name}" is ${p.size} bytes, not a multiple of 512`);
  }
  const roots = partitions.filter((p) => p.filesystem?.contents === 'root');
  if (roots.length !== 1) fail(`expected exactly one partition with the root filesystem, found ${roots.length}`);
  if (partitions.filter((p) => p.filesystem?.contents === 'boot').length !== 1) {
    fail('expected exactly one partition with the boot filesystem (the ESP)');
  }
  return plan;
}

export function parsePlanJson(text: string, origin: string): ImagePlan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImageError('plan.not-json', `Cannot read the image plan from ${origin}: ${(error as Error).message}`);
  }
  return checkPlan(value, origin);
}
