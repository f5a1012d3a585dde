/**
 * The jbd2 journal superblock (big-endian, format-specs §8.7). A fresh journal is clean:
 * s_start = 0 means nothing to replay, so the rest of the journal can stay zero.
 */
import { defineStruct } from '../../core/struct.js';

export const JBD2_MAGIC = 0xc03b3998;
const SUPERBLOCK_V2 = 4;

export const journalSuperblockStruct = defineStruct('jbd2.superblock', 1024, {
  h_magic: [0, 'u32be'],
  h_blocktype: [4, 'u32be'],
  h_sequence: [8, 'u32be'],
  s_blocksize: [12, 'u32be'],
  s_maxlen: [16, 'u32be'],
  s_first: [20, 'u32be'],
  s_sequence: [24, 'u32be'],
  s_start: [28, 'u32be'],
  s_errno: [32, 'u32be'],
  s_feature_compat: [36, 'u32be'],
  s_feature_incompat: [40, 'u32be'],
  s_feature_ro_compat: [44, 'u32be'],
  s_uuid: [48, { bytes: 16 }],
  s_nr_users: [64, 'u32be'],
});

/**
 * Journal size in blocks for a filesystem of `blocks` 4 KiB blocks, following mke2fs's
 * table (ext2fs_default_journal_size).
 */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

export function encodeJournalSuperblock(blockSize: number, journalBlocks: number, uuid: Uint8Array): Uint8Array {
  const block = new Uint8Array(blockSize);
  journalSuperblockStruct.encode({
    h_magic: JBD2_MAGIC,
    h_blocktype: SUPERBLOCK_V2,
    s_blocksize: blockSize,
    s_maxlen: journalBlocks,
    s_first: 1,
    s_sequence: 1,
    s_uuid: uuid,
    s_nr_users: 1,
  }, block);
  return block;
}
