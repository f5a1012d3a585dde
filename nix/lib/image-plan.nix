# Shared by every nixos-generate format module: declares the format's options and
# exports system.build.imagePlan, the JSON contract the TypeScript writers consume
# (docs/image-plan.md). Custom formats (--format-path) import this file too.
#
# Everything read from NixOS here is listed, per release, in docs/nixos-compat.md.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixos-generate;
  layouts = import ./layouts.nix;
  grub = config.boot.loader.grub;
  systemdBoot = config.boot.loader.systemd-boot;
  timeout = config.boot.loader.timeout;
  hostPlatform = pkgs.stdenv.hostPlatform;

  # The GRUB builds NixOS's grub module installs with (nixos/modules/system/boot/loader/grub/grub.nix):
  # grub2 (from pkgsi686Linux with forcei686, built against ZFS with zfsSupport); the
  # BIOS build is system.build.grub (null when the devices are only "nodev"), the EFI
  # build is that grub2 overridden with efiSupport, which NixOS exposes nowhere else.
  grubPkgs = if grub.forcei686 then pkgs.pkgsi686Linux else pkgs;
  realGrub =
    if grub.zfsSupport then
      grubPkgs.grub2.override {
        zfsSupport = true;
        zfs = grub.zfsPackage;
      }
    else
      grubPkgs.grub2;
  # For a system of another platform, the build machine's GRUB from the same nixpkgs: its
  # grub-mkimage assembles the system's EFI GRUB from the system's modules.
  buildGrub =
    if cfg.buildPlatform == hostPlatform.system then null
    else ((import ./common.nix).buildPackages pkgs cfg.buildPlatform).grub2_efi;
  biosGrub = config.system.build.grub or null;
  # grubTarget is "" where GRUB has no BIOS platform (aarch64).
  hasBiosGrub = biosGrub != null && (biosGrub.grubTarget or "") != "";

  # systemd-boot as bootctl installs it: from the system's systemd, for the platform's EFI architecture.
  systemdBootBinary = "${config.systemd.package}/lib/systemd/boot/efi/systemd-boot${hostPlatform.efiArch}.efi";

  layout = layouts.${cfg.partitionTableType};
  layoutHasEsp = builtins.elem cfg.partitionTableType [ "efi" "hybrid" ];
  layoutBootsBios = builtins.elem cfg.partitionTableType [ "legacy" "legacy+gpt" "hybrid" ];

  bootloader =
    if systemdBoot.enable then
      {
        type = "systemd-boot";
        efiBinary = systemdBootBinary;
        inherit timeout;
      }
    else
      {
        type = "grub";
        bios = if hasBiosGrub && layoutBootsBios then { package = "${biosGrub}"; } else null;
        efi =
          if grub.efiSupport && layoutHasEsp then
            { package = "${realGrub.override { efiSupport = true; }}"; }
            // lib.optionalAttrs (buildGrub != null) { mkimage = "${buildGrub}/bin/grub-mkimage"; }
          else
            null;
        inherit timeout;
      };

  # What the layout needs from the boot loader, as one line that says what to change.
  bootloaderRefusals =
    # A layout only a PC BIOS boots (MBR or GPT with a BIOS boot partition, no ESP).
    if layoutBootsBios && !layoutHasEsp && !hostPlatform.isx86 then
      [
        {
          option = "nixpkgs.hostPlatform";
          value = hostPlatform.system;
          hint = "${cfg.format} boots with a PC BIOS, which ${hostPlatform.system} does not have; use a UEFI format (raw-efi, qcow-efi, hyperv, amazon) or an sd-card format";
        }
      ]
    else if systemdBoot.enable then
      lib.optional (!layoutHasEsp) {
        option = "boot.loader.systemd-boot.enable";
        value = true;
        hint = "${cfg.format} boots with BIOS and has no EFI system partition; use a UEFI format (raw-efi, qcow-efi, hyperv, vmware) or GRUB";
      }
    else if !grub.enable then
      [
        {
          option = "boot.loader.grub.enable";
          value = false;
          hint = "${cfg.format} installs GRUB or systemd-boot; enable one of them";
        }
      ]
    else
      lib.optional (cfg.partitionTableType != "none" && bootloader.bios == null && bootloader.efi == null) {
        option = "boot.loader.grub.device";
        value = grub.device;
        hint = "${cfg.format} needs GRUB for ${if layoutHasEsp then "UEFI (boot.loader.grub.efiSupport = true)" else "BIOS (a boot.loader.grub.device other than \"nodev\")"}";
      };

  # NixOS's GRUB installer adds a Memtest86+ entry and copies memtest.bin to /boot; the
  # grub.cfg written here has neither.
  memtestRefusals = lib.optional (!systemdBoot.enable && grub.memtest86.enable) {
    option = "boot.loader.grub.memtest86.enable";
    value = true;
    hint = "the GRUB menu of ${cfg.format} is written without a Memtest86+ entry; leave it off (the install-iso formats have one)";
  };

  # The format's own refusals first: they name the setting of that format to change.
  refusals = cfg.refusals ++ lib.optionals cfg.writesDisk (bootloaderRefusals ++ memtestRefusals);

  diskPlan = {
    version = 1;
    inherit (cfg) format additionalSpace;
    toplevel = "${config.system.build.toplevel}";
    diskSize = config.virtualisation.diskSize;
    partitionTable =
      if cfg.rootLabel == "nixos" then layout else layouts.withRootLabel cfg.rootLabel layout;
    inherit bootloader;
    output = cfg.output;
  };
in
{
  imports = [ ./plan-options.nix ];

  options.nixos-generate = {
    partitionTableType = lib.mkOption {
      type = lib.types.enum [
        "legacy"
        "legacy+gpt"
        "efi"
        "hybrid"
        "none"
      ];
      description = "Partition layout, named as make-disk-image names them.";
    };
    rootLabel = lib.mkOption {
      type = lib.types.str;
      default = "nixos";
      description = "Label of the root ext4 filesystem (azure's virtualisation.azureImage.label).";
    };
    additionalSpace = lib.mkOption {
      type = lib.types.int;
      default = 512;
      description = "MiB of free space left in the root filesystem when the disk size is auto.";
    };
    output = lib.mkOption {
      type = lib.types.attrs;
      description = "The plan's output: container, fileName, compression and the container's settings (docs/image-plan.md).";
    };
    refusals = lib.mkOption {
      type = lib.types.listOf lib.types.attrs;
      default = [ ];
      internal = true;
      description = "Settings the format cannot honour: { option; value; hint; }. The first one stops the build before anything is built.";
    };
    writesDisk = lib.mkOption {
      type = lib.types.bool;
      default = true;
      internal = true;
      description = "Whether the plan has a disk (and so a boot loader to check); false for a runner without one (vm).";
    };
    diskPlan = lib.mkOption {
      type = lib.types.attrs;
      readOnly = true;
      internal = true;
      default = diskPlan;
      description = "The disk this format's layout, boot loader and output give (docs/image-plan.md).";
    };
    plan = lib.mkOption {
      type = lib.types.attrs;
      default = diskPlan;
      internal = true;
      description = "The plan exported as system.build.imagePlan: the disk plan, or a plan holding it (vm-bootloader).";
    };
    baseName = lib.mkOption {
      type = lib.types.str;
      readOnly = true;
      default =
        config.image.baseName
          or "nixos-image-${config.system.nixos.label}-${hostPlatform.system}";
      description = "nixpkgs' image.baseName (25.05 and later), or its default on older releases; read-only.";
    };
  };

  config.system.build.imagePlan = (import ./common.nix).planOrRefusal pkgs cfg.format refusals cfg.plan;
}
