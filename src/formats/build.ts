/**
 * Builds one image from a plan and the system closure: assembles the disk, writes it in
 * the plan's container under a temporary name and renames it into place when complete.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from '../core/errors.js';
import { OutputFile } from '../core/output-file.js';
import type { RunControl } from '../core/progress.js';
import { writeQcow2 } from '../container/qcow2.js';
import { writeRaw } from '../container/raw.js';
import type { SystemClosure } from '../nix/root-tree.js';
import type { ImagePlan } from '../plan/types.js';
import { buildDiskImage } from './disk-image.js';

export interface BuildImageRequest {
  readonly plan: ImagePlan;
  readonly closure: SystemClosure;
  /** Directory that receives the image file (created if missing). */
  readonly outputDir: string;
  readonly epoch: number;
  readonly control?: RunControl;
}

/** Returns the path of the finished image. */
export async function buildImage(request: BuildImageRequest): Promise<string> {
  const { plan, control = {} } = request;
  const disk = await buildDiskImage(plan, request.closure, request.epoch);
  try {
    mkdirSync(request.outputDir, { recursive: true });
  } catch (error) {
    throw new ImageError('output.unwritable', `Cannot create the output directory "${request.outputDir}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'choose another place with -o',
    });
  }
  const out = OutputFile.create(join(request.outputDir, plan.output.fileName));
  try {
    const phase = `write ${plan.output.fileName} (${plan.format})`;
    switch (plan.output.container) {
      case 'raw':
        await writeRaw(disk.image, out, { ...control, phase });
        break;
      case 'qcow2':
        await writeQcow2(disk.image, out, {}, { ...control, phase });
        break;
    }
    return out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
}
