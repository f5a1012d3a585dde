/**
 * ext4 superblock (1024 bytes at byte 1024 of the filesystem; backups at the start of
 * the sparse_super groups). Offsets: format-specs §8.2, Linux Documentation/filesystems/ext4.
 */
import { defineStruct } from '../../core/struct.js';

export const SUPERBLOCK_SIZE = 1024;
export const EXT4_MAGIC = 0xef53;

export const superblockStruct = defineStruct('ext4.superblock', SUPERBLOCK_SIZE, {
  s_inodes_count: [0, 'u32le'],
  s_blocks_count_lo: [4, 'u32le'],
  s_r_blocks_count_lo: [8, 'u32le'],
  s_free_blocks_count_lo: [12, 'u32le'],
  s_free_inodes_count: [16, 'u32le'],
  s_first_data_block: [20, 'u32le'],
  s_log_block_size: [24, 'u32le'],
  s_log_cluster_size: [28, 'u32le'],
  s_blocks_per_group: [32, 'u32le'],
  s_clusters_per_group: [36, 'u32le'],
  s_inodes_per_group: [40, 'u32le'],
  s_mtime: [44, 'u32le'],
  s_wtime: [48, 'u32le'],
  s_mnt_count: [52, 'u16le'],
  s_max_mnt_count: [54, 'u16le'],
  s_magic: [56, 'u16le'],
  s_state: [58, 'u16le'],
  s_errors: [60, 'u16le'],
  s_minor_rev_level: [62, 'u16le'],
  s_lastcheck: [64, 'u32le'],
  s_checkinterval: [68, 'u32le'],
  s_creator_os: [72, 'u32le'],
  s_rev_level: [76, 'u32le'],
  s_def_resuid: [80, 'u16le'],
  s_def_resgid: [82, 'u16le'],
  s_first_ino: [84, 'u32le'],
  s_inode_size: [88, 'u16le'],
  s_block_group_nr: [90, 'u16le'],
  s_feature_compat: [92, 'u32le'],
  s_feature_incompat: [96, 'u32le'],
  s_feature_ro_compat: [100, 'u32le'],
  s_uuid: [104, { bytes: 16 }],
  s_volume_name: [120, { bytes: 16 }],
  s_last_mounted: [136, { bytes: 64 }],
  s_algorithm_usage_bitmap: [200, 'u32le'],
  s_reserved_gdt_blocks: [206, 'u16le'],
  s_journal_uuid: [208, { bytes: 16 }],
  s_journal_inum: [224, 'u32le'],
  s_journal_dev: [228, 'u32le'],
  s_last_orphan: [232, 'u32le'],
  s_hash_seed: [236, { bytes: 16 }],
  s_def_hash_version: [252, 'u8'],
  s_jnl_backup_type: [253, 'u8'],
  s_desc_size: [254, 'u16le'],
  s_default_mount_opts: [256, 'u32le'],
  s_first_meta_bg: [260, 'u32le'],
  s_mkfs_time: [264, 'u32le'],
  s_jnl_blocks: [268, { bytes: 68 }],
  s_blocks_count_hi: [336, 'u32le'],
  s_r_blocks_count_hi: [340, 'u32le'],
  s_free_blocks_count_hi: [344, 'u32le'],
  s_min_extra_isize: [348, 'u16le'],
  s_want_extra_isize: [350, 'u16le'],
  s_flags: [352, 'u32le'],
  s_log_groups_per_flex: [372, 'u8'],
  s_checksum_type: [373, 'u8'],
  s_kbytes_written: [376, 'u64le'],
  s_checksum: [1020, 'u32le'],
});

export const COMPAT_HAS_JOURNAL = 0x4;
export const COMPAT_EXT_ATTR = 0x8;
export const COMPAT_DIR_INDEX = 0x20;
export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_EXTENTS = 0x40;
export const INCOMPAT_64BIT = 0x80;
export const INCOMPAT_FLEX_BG = 0x200;
export const RO_COMPAT_SPARSE_SUPER = 0x1;
export const RO_COMPAT_LARGE_FILE = 0x2;
export const RO_COMPAT_HUGE_FILE = 0x8;
export const RO_COMPAT_DIR_NLINK = 0x20;
export const RO_COMPAT_EXTRA_ISIZE = 0x40;
export const RO_COMPAT_METADATA_CSUM = 0x400;

/** Debian 12's mke2fs ext4 defaults without resize_inode (growth still works offline). */
export const FEATURES = {
  compat: COMPAT_HAS_JOURNAL | COMPAT_EXT_ATTR | COMPAT_DIR_INDEX,
  incompat: INCOMPAT_FILETYPE | INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG,
  roCompat:
    RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_HUGE_FILE |
    RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE | RO_COMPAT_METADATA_CSUM,
} as const;
