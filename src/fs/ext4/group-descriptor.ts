/** ext4 block group descriptor, 64 bytes with the 64bit feature (format-specs §8.3). */
import { defineStruct } from '../../core/struct.js';

export const GROUP_DESCRIPTOR_SIZE = 64;

export const groupDescriptorStruct = defineStruct('ext4.group_desc', GROUP_DESCRIPTOR_SIZE, {
  bg_block_bitmap_lo: [0, 'u32le'],
  bg_inode_bitmap_lo: [4, 'u32le'],
  bg_inode_table_lo: [8, 'u32le'],
  bg_free_blocks_count_lo: [12, 'u16le'],
  bg_free_inodes_count_lo: [14, 'u16le'],
  bg_used_dirs_count_lo: [16, 'u16le'],
  bg_flags: [18, 'u16le'],
  bg_exclude_bitmap_lo: [20, 'u32le'],
  bg_block_bitmap_csum_lo: [24, 'u16le'],
  bg_inode_bitmap_csum_lo: [26, 'u16le'],
  bg_itable_unused_lo: [28, 'u16le'],
  bg_checksum: [30, 'u16le'],
  bg_block_bitmap_hi: [32, 'u32le'],
  bg_inode_bitmap_hi: [36, 'u32le'],
  bg_inode_table_hi: [40, 'u32le'],
  bg_free_blocks_count_hi: [44, 'u16le'],
  bg_free_inodes_count_hi: [46, 'u16le'],
  bg_used_dirs_count_hi: [48, 'u16le'],
  bg_itable_unused_hi: [50, 'u16le'],
  bg_exclude_bitmap_hi: [52, 'u32le'],
  bg_block_bitmap_csum_hi: [56, 'u16le'],
  bg_inode_bitmap_csum_hi: [58, 'u16le'],
});

export const BG_INODE_UNINIT = 0x1;
export const BG_INODE_ZEROED = 0x4;
