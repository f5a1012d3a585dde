/** Native ISO 9660 writer: Rock Ridge, Joliet, El Torito and isohybrid MBR/GPT, as xorriso makes NixOS ISOs. */
export { writeIso, type DeferredFile, type IsoOptions } from './writer.js';
export type { EfiPartitionType } from './hybrid-gpt.js';
