/**
 * The image plan: the JSON contract between a format's Nix module and the writers.
 * This schema is the single source of truth; docs/image-plan.schema.json is generated
 * from it and a test keeps the two equal.
 */

const GUID = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';
export const STORE_PATH = '^/nix/store/[0-9a-z]{32}-[^/]+(/.*)?$';

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
    registrationFile: {
      type: 'string', pattern: '^/[^/]+(/[^/]+)*$',
      description: 'Instead of a loaded Nix database and the system profile, the closure\'s registration at this path, which the system loads on first boot (make-ext4-fs.nix, the sd-card images: /nix-path-registration).',
    },
  },
} as const;

const vfat = {
  type: 'object',
  description: 'A FAT filesystem holding the boot files (the EFI System Partition), or the files of a store directory (an sd-card image\'s FIRMWARE partition).',
  required: ['type', 'label', 'volumeId', 'contents'],
  additionalProperties: false,
  properties: {
    type: { const: 'vfat' },
    label: { type: 'string', minLength: 1, maxLength: 11 },
    volumeId: { type: 'string', pattern: '^[0-9A-F]{4}-[0-9A-F]{4}$' },
    contents: { enum: ['boot', 'firmware'] },
    source: { type: 'string', pattern: STORE_PATH, description: 'With contents "firmware": the store directory whose files the filesystem holds (sdImage.populateFirmwareCommands\' result), dated 2000-01-01 as sd-image.nix dates them.' },
  },
} as const;

const partitionProperties = {
  name: { type: 'string', maxLength: 36 },
  type: { enum: ['esp', 'bios-boot', 'linux', 'linux-root-x86-64', 'xbootldr', 'microsoft-basic-data', 'fat32'] },
  guid: { type: 'string', pattern: GUID },
  start: { type: 'integer', minimum: 512, description: 'Byte offset, a multiple of 512.' },
  size: {
    oneOf: [{ type: 'integer', minimum: 512 }, { const: 'auto' }],
    description: 'Bytes, or "auto": sized from its contents (diskSize "auto") or filling the disk (fixed diskSize). Only the last partition may be "auto".',
  },
  bootable: { type: 'boolean', description: 'MBR active flag.' },
  filesystem: { oneOf: [ext4, vfat, { type: 'null' }] },
} as const;

const gptPartition = {
  type: 'object',
  required: ['name', 'type', 'guid', 'start', 'size', 'filesystem'],
  additionalProperties: false,
  properties: partitionProperties,
} as const;

const mbrPartition = {
  type: 'object',
  required: ['name', 'type', 'start', 'size', 'filesystem'],
  additionalProperties: false,
  properties: partitionProperties,
} as const;

const grubPackage = {
  oneOf: [
    {
      type: 'object',
      required: ['package'],
      additionalProperties: false,
      properties: {
        package: { type: 'string', pattern: STORE_PATH, description: 'GRUB package with bin/grub-mkimage and lib/grub/<target>.' },
        mkimage: { type: 'string', pattern: STORE_PATH, description: 'A grub-mkimage the build machine runs, for a system of another architecture (the build machine\'s GRUB of the same nixpkgs).' },
      },
    },
    { type: 'null' },
  ],
} as const;

const timeout = {
  oneOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }],
  description: 'Seconds before the default entry boots; null waits for a choice.',
} as const;

const diskPlanSchema = {
  type: 'object',
  description: 'A disk image: partitions, filesystems and a boot loader, in a container.',
  required: ['version', 'format', 'toplevel', 'diskSize', 'additionalSpace', 'partitionTable', 'bootloader', 'output'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    kind: { const: 'disk', description: 'Optional: a plan without a kind is a disk plan.' },
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
            partitions: { type: 'array', minItems: 1, maxItems: 128, items: gptPartition },
          },
        },
        {
          type: 'object',
          required: ['type', 'diskSignature', 'partitions'],
          additionalProperties: false,
          properties: {
            type: { const: 'mbr' },
            diskSignature: { type: 'string', pattern: '^[0-9A-Fa-f]{8}$' },
            partitions: { type: 'array', minItems: 1, maxItems: 4, items: mbrPartition },
          },
        },
        {
          type: 'object',
          description: 'No partition table: the whole disk is the root filesystem.',
          required: ['type', 'filesystem'],
          additionalProperties: false,
          properties: { type: { const: 'none' }, filesystem: ext4 },
        },
      ],
    },
    bootloader: {
      oneOf: [
        {
          type: 'object',
          description: 'GRUB: for BIOS (i386-pc core in the MBR gap or the BIOS boot partition), for UEFI (removable media EFI/BOOT/BOOT<ARCH>.EFI: BOOTX64.EFI, BOOTAA64.EFI), both, or neither (only grub.cfg, read by the platform\'s own GRUB).',
          required: ['type', 'bios', 'efi', 'timeout'],
          additionalProperties: false,
          properties: { type: { const: 'grub' }, bios: grubPackage, efi: grubPackage, timeout },
        },
        {
          type: 'object',
          description: 'generic-extlinux-compatible: /boot/extlinux/extlinux.conf on the root filesystem and copies of the boot files in /boot/nixos, read by U-Boot (the sd-card images).',
          required: ['type', 'timeout', 'useGenerationDeviceTree', 'deviceTreeName'],
          additionalProperties: false,
          properties: {
            type: { const: 'extlinux' },
            timeout,
            useGenerationDeviceTree: { type: 'boolean', description: 'FDTDIR (or FDT with deviceTreeName) lines for the system\'s dtbs.' },
            deviceTreeName: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'null' }], description: 'hardware.deviceTree.name: FDT <dtbs>/<name> instead of FDTDIR.' },
          },
        },
        {
          type: 'object',
          description: 'systemd-boot with loader entries generated from the bootspec.',
          required: ['type', 'efiBinary', 'timeout'],
          additionalProperties: false,
          properties: {
            type: { const: 'systemd-boot' },
            efiBinary: { type: 'string', pattern: STORE_PATH, description: 'systemd-boot<efiArch>.efi (x64, ia32, aa64, ...) from the system\'s systemd, as bootctl installs it.' },
            timeout,
          },
        },
      ],
    },
    output: {
      type: 'object',
      required: ['container', 'fileName', 'compression'],
      additionalProperties: false,
      properties: {
        container: { enum: ['raw', 'qcow2', 'vhd', 'vhdx', 'vmdk', 'ova', 'vagrant-box', 'gce-tar', 'vma'] },
        fileName: { type: 'string', pattern: '^[^/]+(/[^/]+)*$', description: 'Path inside the output directory.' },
        compression: { enum: ['none', 'gzip', 'zstd'], description: 'Applied to the container (raw, qcow2 and vma only).' },
        compressionLevel: { type: 'integer', minimum: 1, maximum: 9, description: 'gzip level for gzip compression and the gce-tar container (default 6).' },
        vhd: {
          type: 'object', required: ['subformat'], additionalProperties: false,
          properties: { subformat: { enum: ['fixed', 'dynamic'] } },
        },
        vmdk: {
          type: 'object', required: ['subformat'], additionalProperties: false,
          properties: { subformat: { enum: ['monolithicSparse', 'streamOptimized'] } },
        },
        virtualMachine: {
          type: 'object', required: ['name', 'memoryMiB', 'cpus'], additionalProperties: false,
          description: 'The VM an OVA or a Vagrant box describes.',
          properties: { name: { type: 'string', minLength: 1 }, memoryMiB: { type: 'integer', minimum: 1 }, cpus: { type: 'integer', minimum: 1 } },
        },
        proxmox: {
          type: 'object', required: ['qemuServerConf'], additionalProperties: false,
          properties: { qemuServerConf: { type: 'string', minLength: 1, description: 'The qemu-server.conf stored in the VMA.' } },
        },
        sideFiles: { type: 'array', items: { enum: ['amazon-image-info'] }, description: 'Files written next to the image.' },
      },
    },
  },
} as const;

const squashfsCompression = {
  type: 'object',
  required: ['algorithm', 'level', 'blockSize'],
  additionalProperties: false,
  properties: {
    algorithm: { enum: ['zstd', 'gzip', 'xz', 'lz4', 'none'] },
    level: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }], description: 'null: the algorithm\'s default.' },
    blockSize: { type: 'integer', minimum: 4096, description: 'Bytes; nixpkgs\' make-squashfs passes -b 1048576.' },
    dictionarySize: { type: 'integer', minimum: 8192, description: 'xz only (-Xdict-size): bytes; absent: the block size.' },
  },
} as const;

const livePlanSchema = {
  type: 'object',
  description: 'A live ISO (nixpkgs\' iso-image.nix): the closure in a squashfs inside an ISO 9660 filesystem, booted by isolinux and GRUB.',
  required: ['version', 'kind', 'format', 'toplevel', 'live', 'output'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    kind: { const: 'live' },
    format: { type: 'string', minLength: 1 },
    toplevel: { type: 'string', pattern: STORE_PATH },
    live: {
      type: 'object',
      required: ['volumeId', 'squashfs', 'contents', 'bios', 'efi', 'usb', 'menu', 'storeContents'],
      additionalProperties: false,
      properties: {
        volumeId: { type: 'string', minLength: 1, maxLength: 32, description: 'isoImage.volumeID; root=LABEL=<volumeId> finds the ISO at boot.' },
        squashfs: squashfsCompression,
        contents: {
          type: 'array',
          description: 'isoImage.contents without the files this project writes itself (isolinux.cfg, /EFI, /boot/efi.img).',
          items: {
            type: 'object', required: ['source', 'target'], additionalProperties: false,
            properties: { source: { type: 'string', pattern: STORE_PATH }, target: { type: 'string', pattern: '^/' } },
          },
        },
        bios: {
          oneOf: [
            { type: 'object', required: ['syslinux'], additionalProperties: false, properties: { syslinux: { type: 'string', pattern: STORE_PATH, description: 'syslinux, with share/syslinux/{isolinux.bin,isohdpfx.bin,ldlinux.c32}.' } } },
            { type: 'null' },
          ],
        },
        efi: {
          oneOf: [
            {
              type: 'object', required: ['grub', 'efiArch'], additionalProperties: false,
              properties: {
                grub: { type: 'string', pattern: STORE_PATH, description: 'GRUB built for EFI (grub2_efi), with bin/grub-mkimage and lib/grub/<target>.' },
                efiArch: { enum: ['x64', 'ia32', 'aa64'] },
                mkimage: { type: 'string', pattern: STORE_PATH, description: 'A grub-mkimage the build machine runs, for a system of another architecture (the build machine\'s GRUB of the same nixpkgs).' },
                refind: {
                  oneOf: [{ type: 'string', pattern: STORE_PATH }, { type: 'null' }],
                  description: 'rEFInd (refind_<efiArch>.efi) put beside GRUB in /EFI/BOOT and efi.img, with a GRUB entry that starts it; null for none.',
                },
              },
            },
            { type: 'null' },
          ],
        },
        storeContents: { type: 'array', items: { type: 'string', pattern: STORE_PATH }, description: 'isoImage.storeContents (the system, and its .drv with includeSystemBuildDependencies): their closure, with its registration, is the squashfs\'s.' },
        usb: { type: 'boolean', description: 'isohybrid: an MBR (and with EFI a GPT) so the file boots as a disk.' },
        menu: {
          type: 'object',
          required: ['timeout', 'distroName', 'label', 'prepend', 'append', 'configurationName', 'showConfiguration', 'syslinuxTheme', 'forceTextMode', 'memtest'],
          additionalProperties: false,
          properties: {
            timeout,
            distroName: { type: 'string' },
            label: { type: 'string', description: 'system.nixos.label' },
            prepend: { type: 'string' },
            append: { type: 'string' },
            configurationName: { oneOf: [{ type: 'string' }, { type: 'null' }] },
            showConfiguration: { type: 'boolean' },
            syslinuxTheme: { type: 'string' },
            forceTextMode: { type: 'boolean' },
            memtest: {
              oneOf: [
                { type: 'object', required: ['params'], additionalProperties: false, properties: { params: { type: 'array', items: { type: 'string' } } } },
                { type: 'null' },
              ],
              description: 'boot.loader.grub.memtest86: the Memtest86+ entry of isolinux.cfg for /boot/memtest.bin, with its parameters.',
            },
            specialisations: {
              type: 'object',
              description: 'Each specialisation\'s own menu names, from its configuration; absent with --toplevel (the entry is named with the system\'s fields and the specialisation\'s name).',
              additionalProperties: {
                type: 'object',
                required: ['distroName', 'label', 'prepend', 'append', 'configurationName', 'showConfiguration'],
                additionalProperties: false,
                properties: {
                  distroName: { type: 'string' },
                  label: { type: 'string' },
                  prepend: { type: 'string' },
                  append: { type: 'string' },
                  configurationName: { oneOf: [{ type: 'string' }, { type: 'null' }] },
                  showConfiguration: { type: 'boolean' },
                },
              },
            },
          },
        },
      },
    },
    output: {
      type: 'object',
      required: ['container', 'fileName', 'compression'],
      additionalProperties: false,
      properties: {
        container: { const: 'iso' },
        fileName: { type: 'string', pattern: '^[^/]+(/[^/]+)*$', description: 'Path inside the output directory.' },
        compression: { enum: ['none', 'zstd'], description: 'zstd of the finished ISO (isoImage.compressImage).' },
      },
    },
  },
} as const;

const relativePath = { type: 'string', pattern: '^[^/]', description: 'A path inside the tar root, without a leading "/".' } as const;

const tarballPlanSchema = {
  type: 'object',
  description: 'A system tarball (nixpkgs\' make-system-tarball.nix): a root with the closure in nix/store, archived by tar and compressed with xz.',
  required: ['version', 'kind', 'format', 'toplevel', 'tarball', 'output'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    kind: { const: 'tarball' },
    format: { type: 'string', minLength: 1 },
    toplevel: { type: 'string', pattern: STORE_PATH },
    tarball: {
      type: 'object',
      required: ['contents', 'storePaths', 'symlinks', 'commands'],
      additionalProperties: false,
      properties: {
        contents: {
          type: 'array',
          description: 'make-system-tarball\'s contents: each source copied (cp -a) to its target; a source ending in "/." gives its entries.',
          items: {
            type: 'object', required: ['source', 'target'], additionalProperties: false,
            properties: { source: { type: 'string', pattern: '^/nix/store/' }, target: { type: 'string', minLength: 1 } },
          },
        },
        storePaths: { type: 'array', items: { type: 'string', pattern: STORE_PATH }, description: 'storeContents objects; their closure is archived under nix/store.' },
        symlinks: {
          type: 'array',
          items: {
            type: 'object', required: ['object', 'path'], additionalProperties: false,
            properties: { object: { type: 'string', pattern: STORE_PATH }, path: relativePath },
          },
        },
        commands: {
          type: 'array',
          description: 'extraCommands as read by the format module: "rm <path>" and "mkdir -p <path>", in order.',
          items: {
            type: 'object', required: ['op', 'path'], additionalProperties: false,
            properties: { op: { enum: ['rm', 'mkdir'] }, path: relativePath },
          },
        },
      },
    },
    output: {
      type: 'object',
      required: ['container', 'fileName', 'compression'],
      additionalProperties: false,
      properties: {
        container: { const: 'tar' },
        fileName: { type: 'string', pattern: '^[^/]+(/[^/]+)*$', description: 'Path inside the output directory: tarball/<fileName>.tar.xz.' },
        compression: { const: 'xz' },
      },
    },
  },
} as const;

const tarballContents = tarballPlanSchema.properties.tarball;

const kexecPlanSchema = {
  type: 'object',
  description: 'nixos-generators\' kexec tarball (or self-extracting bundle): make-system-tarball of the kexec script, whose image (kernel, initrd with the closure in a squashfs, cmdline) this project writes.',
  required: ['version', 'kind', 'format', 'toplevel', 'tarball', 'kexec', 'output'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    kind: { const: 'kexec' },
    format: { type: 'string', minLength: 1 },
    toplevel: { type: 'string', pattern: STORE_PATH },
    tarball: tarballContents,
    kexec: {
      type: 'object',
      required: ['imagePath', 'kernel', 'initrd', 'cmdline', 'ramdiskSkeleton', 'ramdiskCompression', 'squashfs', 'storeContents', 'script', 'scriptInputs'],
      additionalProperties: false,
      properties: {
        imagePath: { type: 'string', pattern: STORE_PATH, description: 'system.build.image\'s store path (not built): kernel, initrd, cmdline.' },
        kernel: { type: 'string', pattern: STORE_PATH, description: 'The kernel file, copied with its store references nuked.' },
        initrd: { type: 'string', pattern: STORE_PATH, description: 'The stage-1 initrd the image\'s initrd starts with.' },
        cmdline: { type: 'string', description: 'The text of image/cmdline.' },
        ramdiskSkeleton: {
          type: 'object', required: ['directories', 'symlinks'], additionalProperties: false,
          description: 'What makeInitrdNG creates in the ramdisk\'s root besides the squashfs and its link.',
          properties: {
            directories: { type: 'array', items: relativePath },
            symlinks: {
              type: 'array',
              items: { type: 'object', required: ['path', 'target'], additionalProperties: false, properties: { path: relativePath, target: { type: 'string', minLength: 1 } } },
            },
          },
        },
        ramdiskCompression: {
          type: 'object', required: ['algorithm', 'level'], additionalProperties: false,
          properties: { algorithm: { enum: ['zstd', 'gzip'] }, level: { type: 'integer', minimum: 1, maximum: 19 } },
        },
        squashfs: {
          ...squashfsCompression,
          required: [...squashfsCompression.required, 'path'],
          properties: { ...squashfsCompression.properties, path: { type: 'string', pattern: STORE_PATH, description: 'netboot\'s squashfsStore: its name inside the initrd.' } },
        },
        storeContents: { type: 'array', items: { type: 'string', pattern: STORE_PATH }, description: 'netboot.storeContents: their closure is the squashfs\'s.' },
        script: {
          type: 'object', required: ['path', 'text'], additionalProperties: false,
          properties: { path: { type: 'string', pattern: STORE_PATH }, text: { type: 'string' } },
        },
        scriptInputs: { type: 'array', items: { type: 'string', pattern: STORE_PATH }, description: 'The script\'s references other than the image, built by Nix.' },
      },
    },
    output: {
      type: 'object',
      required: ['container', 'fileName', 'compression'],
      additionalProperties: false,
      properties: {
        container: { enum: ['tar', 'kexec-bundle'] },
        fileName: { type: 'string', pattern: '^[^/]+(/[^/]+)*$', description: 'Path inside the output directory.' },
        compression: { const: 'xz' },
        stub: { type: 'string', description: 'kexec-bundle: the self-extracting script the tarball is appended to.' },
      },
    },
  },
} as const;

const vmShellText = { type: 'string', description: 'Shell text, inserted into the runner as qemu-vm.nix inserts it.' } as const;
const vmForward = {
  type: 'object',
  required: ['from', 'proto', 'host', 'guest'],
  additionalProperties: false,
  properties: {
    from: { enum: ['host', 'guest'] },
    proto: { enum: ['tcp', 'udp'] },
    host: { type: 'object', required: ['address', 'port'], additionalProperties: false, properties: { address: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
    guest: { type: 'object', required: ['address', 'port'], additionalProperties: false, properties: { address: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
  },
} as const;

const vmPlanSchema = {
  type: 'object',
  description: 'nixpkgs\' qemu-vm.nix runner (vm, vm-nogui, vm-bootloader): bin/run-<name>-vm and, with useBootLoader, the disk it boots.',
  required: ['version', 'kind', 'format', 'toplevel', 'vm', 'disk', 'output'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    kind: { const: 'vm' },
    format: { type: 'string', minLength: 1 },
    toplevel: { type: 'string', pattern: STORE_PATH },
    vm: {
      type: 'object',
      required: ['name', 'regInfo', 'memorySize', 'cores', 'diskSize', 'diskImage', 'graphics', 'consoles', 'directBoot', 'shares', 'forwardPorts', 'restrictNetwork',
        'networkingOptions', 'qemuOptions', 'virtioKeyboard', 'useEFIBoot', 'bios', 'sharedMemory', 'forceAccel'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', description: 'system.name.' },
        regInfo: { type: 'string', pattern: STORE_PATH, description: 'closureInfo of virtualisation.additionalPaths.' },
        memorySize: { type: 'integer', minimum: 1, description: 'MiB.' },
        cores: { type: 'integer', minimum: 1 },
        diskSize: { oneOf: [{ type: 'integer', minimum: 1 }, { const: 'auto' }], description: 'MiB of the disk made on first run; "auto": the format\'s default.' },
        diskImage: { oneOf: [vmShellText, { type: 'null' }], description: 'Default of $NIX_DISK_IMAGE; null: no root disk.' },
        graphics: { type: 'boolean' },
        consoles: { type: 'array', items: { type: 'string', pattern: '^[^\\s"\'$`\\\\]+$' } },
        directBoot: {
          oneOf: [
            { type: 'object', required: ['kernel', 'initrd'], additionalProperties: false, properties: { kernel: { type: 'string', pattern: STORE_PATH }, initrd: { type: 'string', pattern: STORE_PATH } } },
            { type: 'null' },
          ],
        },
        shares: {
          type: 'array',
          items: {
            type: 'object', required: ['tag', 'source', 'securityModel'], additionalProperties: false,
            properties: { tag: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' }, source: vmShellText, securityModel: { enum: ['passthrough', 'mapped-xattr', 'mapped-file', 'none'] } },
          },
        },
        forwardPorts: { type: 'array', items: vmForward },
        restrictNetwork: { type: 'boolean' },
        networkingOptions: { type: 'array', items: vmShellText },
        qemuOptions: { type: 'array', items: vmShellText },
        virtioKeyboard: { type: 'boolean' },
        useEFIBoot: { type: 'boolean' },
        bios: { oneOf: [{ type: 'string', pattern: STORE_PATH }, { type: 'null' }] },
        sharedMemory: { type: 'boolean' },
        forceAccel: { type: 'boolean' },
      },
    },
    disk: { oneOf: [diskPlanSchema, { type: 'null' }], description: 'useBootLoader: the disk image the runner boots.' },
    output: {
      type: 'object',
      required: ['container', 'fileName', 'compression'],
      additionalProperties: false,
      properties: {
        container: { const: 'vm-runner' },
        fileName: { type: 'string', pattern: '^bin/run-[A-Za-z0-9._-]+-vm$' },
        compression: { const: 'none' },
      },
    },
  },
} as const;

export const imagePlanSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://github.com/nixos-generate-ts/image-plan.schema.json',
  title: 'nixos-generate image plan',
  oneOf: [diskPlanSchema, livePlanSchema, tarballPlanSchema, kexecPlanSchema, vmPlanSchema],
} as const;
