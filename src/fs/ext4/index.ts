export { buildExt4, ext4MinimumBytes, Ext4TooSmallError, type Ext4Filesystem, type Ext4Options } from './writer.js';
