/**
 * What --json prints on stdout: one document listing every image the run built. This
 * schema is the single source of truth; docs/json-output.schema.json is generated from it
 * (scripts/write-json-output-schema) and a test keeps the two equal.
 */
import type { BuiltImageFiles, WrittenFile } from '../formats/build.js';
import { bootFirmware } from '../formats/firmware.js';
import type { AnyFormatDefinition, Firmware } from '../formats/format.js';
import { nixosVersion } from '../formats/toplevel-plan.js';
import { STORE_PATH } from '../plan/schema.js';
import { isKexecPlan, isLivePlan, isTarballPlan, isVmPlan, type AnyImagePlan, type ImagePlan } from '../plan/types.js';

const ABSOLUTE_PATH = '^/';
const SHA256_HEX = '^[0-9a-f]{64}$';

const fileProperties = {
  path: { type: 'string', pattern: ABSOLUTE_PATH, description: 'Absolute path of the file.' },
  size: { type: 'integer', minimum: 0, description: 'Length in bytes (the apparent size of a sparse file).' },
  sha256: { type: 'string', pattern: SHA256_HEX, description: 'SHA-256 of the file, lower-case hex, as in SHA256SUMS.' },
} as const;

const sideFile = {
  type: 'object',
  description: 'A file the format writes next to the image.',
  required: ['path', 'size', 'sha256'],
  additionalProperties: false,
  properties: fileProperties,
} as const;

const image = {
  type: 'object',
  required: ['format', 'path', 'size', 'sha256', 'firmware', 'partitionTable', 'toplevel', 'label', 'system', 'checksums', 'sideFiles'],
  additionalProperties: false,
  properties: {
    format: { type: 'string', minLength: 1, description: 'The format (the name given to -f, or the plan\'s own for --format-path).' },
    ...fileProperties,
    firmware: { enum: ['bios', 'uefi', 'none'], description: 'What boots the image: BIOS when it has GRUB\'s BIOS core, else UEFI; none when the platform brings its own loader (linode).' },
    partitionTable: { enum: ['gpt', 'mbr', 'none'], description: 'The disk\'s partition table; none for a bare filesystem. For an ISO, its isohybrid table (gpt when it also boots by EFI), none without one.' },
    toplevel: { type: 'string', pattern: STORE_PATH, description: 'The NixOS system in the image.' },
    label: {
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'null' }],
      description: 'The system\'s nixos-version (system.nixos.label), null when it has none.',
    },
    system: { type: 'string', minLength: 1, description: 'The system the image is for, for example x86_64-linux.' },
    checksums: { type: 'string', pattern: '^/.*/SHA256SUMS$', description: 'The SHA256SUMS next to the image, covering it and its side files.' },
    sideFiles: { type: 'array', items: sideFile },
  },
} as const;

export const jsonReportSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://github.com/nixos-generate-ts/json-output.schema.json',
  title: 'nixos-generate --json output',
  description: 'The images one run of nixos-generate built, in the order of -f.',
  type: 'object',
  required: ['version', 'images'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    images: { type: 'array', minItems: 1, items: image },
  },
} as const;

export interface JsonReportFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface JsonReportImage extends JsonReportFile {
  readonly format: string;
  readonly firmware: Firmware;
  readonly partitionTable: ImagePlan['partitionTable']['type'];
  readonly toplevel: string;
  readonly label: string | null;
  readonly system: string;
  readonly checksums: string;
  readonly sideFiles: readonly JsonReportFile[];
}

export interface JsonReport {
  readonly version: 1;
  readonly images: readonly JsonReportImage[];
}

/** An image as the CLI built it. */
export interface ReportedImage {
  readonly plan: AnyImagePlan;
  readonly definition: AnyFormatDefinition | undefined;
  readonly files: BuiltImageFiles;
}

function reportFile(file: WrittenFile): JsonReportFile {
  return { path: file.path, size: file.size, sha256: file.sha256 };
}

/** The system's nixos-version; null when it has none (or an empty one). */
function labelOf(toplevel: string): string | null {
  const version = nixosVersion(toplevel);
  return version === undefined || version === '' ? null : version;
}

/** A live ISO's hybrid tables: a GPT (with its protective MBR) when it boots by EFI too, else an MBR; none without isohybrid. */
function partitionTableOf(plan: AnyImagePlan): ImagePlan['partitionTable']['type'] {
  if (isTarballPlan(plan) || isKexecPlan(plan)) return 'none';
  if (isVmPlan(plan)) return plan.disk === null ? 'none' : plan.disk.partitionTable.type;
  if (!isLivePlan(plan)) return plan.partitionTable.type;
  if (!plan.live.usb) return 'none';
  return plan.live.efi !== null ? 'gpt' : 'mbr';
}

export function jsonReport(images: readonly ReportedImage[]): JsonReport {
  return {
    version: 1,
    images: images.map(({ plan, definition, files }) => ({
      format: plan.format,
      ...reportFile(files.image),
      firmware: bootFirmware(plan, definition),
      partitionTable: partitionTableOf(plan),
      toplevel: plan.toplevel,
      label: labelOf(plan.toplevel),
      system: files.system,
      checksums: files.checksums,
      sideFiles: files.sideFiles.map(reportFile),
    })),
  };
}
