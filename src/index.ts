/** Library API: plan, build and write NixOS images without the CLI. */
export { buildImage, type BuildImageRequest } from './formats/build.js';
export { buildDiskImage, type DiskImage } from './formats/disk-image.js';
export { FORMATS, findFormat, formatNames } from './formats/registry.js';
export type { FormatDefinition } from './formats/format.js';
export { detectBootloader } from './formats/detect-bootloader.js';
export { checkPlan, parsePlanJson, imagePlanSchema, type ImagePlan } from './plan/index.js';
export { queryClosure, resolveToplevel } from './nix/closure.js';
export { buildPlanWithNix } from './nix/evaluate.js';
export { nixosRootTree, type SystemClosure } from './nix/root-tree.js';
export { buildExt4 } from './fs/ext4/index.js';
export { buildFat } from './fs/fat/index.js';
export { writeRaw } from './container/raw.js';
export { writeQcow2 } from './container/qcow2.js';
export { ImageError, UsageError } from './core/errors.js';
export type { BlockImage, Segment } from './core/block-image.js';
