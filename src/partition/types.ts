/** Partition type GUIDs and MBR type bytes (format-specs §7). */

export const GPT_TYPE = {
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  'bios-boot': '21686148-6449-6E6F-744E-656564454649',
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  'linux-root-x86-64': '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  xbootldr: 'BC13C2FF-59E6-4262-A352-B275FD6F7172',
  'microsoft-basic-data': 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  /** A FAT data partition (MBR type 0x0b, "W95 FAT32", as sd-image.nix's sfdisk type=b). */
  fat32: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
} as const;

export type PartitionTypeName = keyof typeof GPT_TYPE;

export const MBR_TYPE: Record<PartitionTypeName, number> = {
  esp: 0xef,
  'bios-boot': 0xda,
  linux: 0x83,
  'linux-root-x86-64': 0x83,
  xbootldr: 0xea,
  'microsoft-basic-data': 0x0c,
  fat32: 0x0b,
};

export const SECTOR = 512;
