/**
 * The image plan: the JSON contract between a format's Nix module and the writers.
 * This schema is the single source of truth; docs/image-plan.schema.json is generated
 * from it and a test keeps the two equal.
 */

const GUID = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';
const STORE_PATH = '^/nix/store/[0-9a-z]{32}-[^/]+(/.*)?$';

const ext4 = {
  type: 'object',
  description: 'An ext4 filesystem holding the NixOS root (closure, Nix database, profile).',
  required: ['type', 'label', 'uuid', 'contents'],
  additionalProperties: false,
  properties: {
    type: { const: 'ext4' },
    label: { type: 'string', minLength: 1, maxLength: 16 },
    uuid: { type: 'string', pattern: GUID },
    contents: { const: 'root' },
  },
} as const;

const vfat = {
  type: 'object',
  description: 'A FAT filesystem holding the boot files (the EFI System Partition).',
  required: ['type', 'label', 'volumeId', 'contents'],
  additionalProperties: false,
  properties: {
    type: { const: 'vfat' },
    label: { type: 'string', minLength: 1, maxLength: 11 },
    volumeId: { type: 'string', pattern: '^[0-9A-F]{4}-[0-9A-F]{4}$' },
    contents: { const: 'boot' },
  },
} as const;

const partition = {
  type: 'object',
  required: ['name', 'type', 'guid', 'start', 'size', 'filesystem'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 36 },
    type: { enum: ['esp', 'bios-boot', 'linux', 'linux-root-x86-64', 'xbootldr', 'microsoft-basic-data'] },
    guid: { type: 'string', pattern: GUID },
    start: { type: 'integer', minimum: 512, description: 'Byte offset, a multiple of 512.' },
    size: {
      oneOf: [{ type: 'integer', minimum: 512 }, { const: 'auto' }],
      description: 'Bytes, or "auto": sized from its contents (diskSize "auto") or filling the disk (fixed diskSize). Only the last partition may be "auto".',
    },
    bootable: { type: 'boolean' },
    filesystem: { oneOf: [ext4, vfat, { type: 'null' }] },
  },
} as const;

export const imagePlanSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://github.com/nixos-generate-ts/image-plan.schema.json',
  title: 'nixos-generate image plan',
  type: 'object',
  required: ['version', 'format', 'toplevel', 'diskSize', 'additionalSpace', 'partitionTable', 'bootloader', 'output'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    format: { type: 'string', minLength: 1 },
    toplevel: { type: 'string', pattern: STORE_PATH },
    diskSize: {
      oneOf: [{ type: 'integer', minimum: 1 }, { const: 'auto' }],
      description: 'Whole disk size in MiB, or "auto" to size it from the closure plus additionalSpace.',
    },
    additionalSpace: { type: 'integer', minimum: 0, description: 'MiB of free space left in the root filesystem when diskSize is "auto".' },
    partitionTable: {
      oneOf: [
        {
          type: 'object',
          required: ['type', 'diskGuid', 'partitions'],
          additionalProperties: false,
          properties: {
            type: { const: 'gpt' },
            diskGuid: { type: 'string', pattern: GUID },
            partitions: { type: 'array', minItems: 1, maxItems: 128, items: partition },
          },
        },
      ],
    },
    bootloader: {
      oneOf: [
        {
          type: 'object',
          description: 'GRUB for UEFI, installed as removable media (EFI/BOOT/BOOTX64.EFI), built with grub-mkimage from the system\'s GRUB.',
          required: ['type', 'package', 'timeout'],
          additionalProperties: false,
          properties: {
            type: { const: 'grub-efi' },
            package: { type: 'string', pattern: STORE_PATH, description: 'GRUB package with bin/grub-mkimage and lib/grub/x86_64-efi.' },
            timeout: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }], description: 'Seconds before the default entry boots; null waits for a choice.' },
          },
        },
        {
          type: 'object',
          description: 'systemd-boot with loader entries generated from the bootspec.',
          required: ['type', 'efiBinary', 'timeout'],
          additionalProperties: false,
          properties: {
            type: { const: 'systemd-boot' },
            efiBinary: { type: 'string', pattern: STORE_PATH, description: 'systemd-bootx64.efi from the system\'s systemd.' },
            timeout: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }], description: 'Seconds before the default entry boots; null waits for a choice.' },
          },
        },
      ],
    },
    output: {
      type: 'object',
      required: ['container', 'fileName'],
      additionalProperties: false,
      properties: {
        container: { enum: ['raw', 'qcow2'] },
        fileName: { type: 'string', pattern: '^[^/]+$' },
      },
    },
  },
} as const;
