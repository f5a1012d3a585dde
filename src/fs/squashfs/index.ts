/** Native squashfs 4.0 writer (the Nix store of live ISOs). */
export { writeSquashfs, DEFAULT_BLOCK_SIZE, type SquashfsOptions } from './writer.js';
export type { SquashfsCompression } from './codec.js';
