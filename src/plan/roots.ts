/** The store paths whose closure an image holds, by plan kind: the one answer the CLI and the benchmarks share. */
import { isKexecPlan, isLivePlan, isTarballPlan, isVmPlan, type AnyImagePlan } from './types.js';

export function imageRoots(plan: AnyImagePlan): readonly string[] {
  if (isTarballPlan(plan)) return plan.tarball.storePaths;
  if (isKexecPlan(plan)) return plan.kexec.storeContents;
  if (isLivePlan(plan)) return plan.live.storeContents;
  // vm-bootloader's disk holds regInfo's closure too (make-disk-image's additionalPaths).
  if (isVmPlan(plan) && plan.disk !== null) return [plan.toplevel, plan.vm.regInfo];
  return [plan.toplevel];
}
