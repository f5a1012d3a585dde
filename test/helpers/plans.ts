/** Narrowing plans in tests: a disk format's plan is a disk plan. */
import assert from 'node:assert/strict';
import { isDiskPlan, type AnyImagePlan, type ImagePlan } from '../../src/plan/types.js';

export function diskPlan(plan: AnyImagePlan): ImagePlan {
  assert.ok(isDiskPlan(plan), `${plan.format} gave a ${plan.kind} plan where a disk plan was expected`);
  return plan;
}
