# Imitates nixos/modules/installer/cd-dvd/iso-image.nix (NixOS 25.05): a live
# system whose root is a tmpfs, whose store is an overlay over the squashfs
# /nix-store.squashfs on the ISO (found as /dev/root, from root=LABEL=<volumeID>),
# bootable by BIOS (isolinux), EFI (GRUB in /boot/efi.img) and as a USB disk.
# Declares isoImage.* as 25.05 does (isoName and isoBaseName renamed to
# image.fileName and image.baseName since 25.05); sets fileSystems at
# mkImageMediaOverride, boot.kernelParams, the initrd modules, boot.loader
# (grub off, timeout 10), isoImage.contents and storeContents, and the image
# name ("iso/<baseName>.iso") as upstream.
# Differences: the splash images default to null here (upstream fetches them
# from nixos-artwork, which this offline stand-in cannot), grubTheme defaults to
# null (no nixos-grub2-theme package); boot.postBootCommands and
# boot.initrd.supportedFilesystems are not declared by the stand-in, so the
# registration load at boot and the vfat initrd module are left out (the
# example's stage 2 reports the registration it finds instead).
# Left out: system.build.isoImage (xorriso and mksquashfs); nixos-generate
# writes the ISO itself.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.isoImage;
  edition = lib.optionalString (cfg.edition != "") "-${cfg.edition}";
  # The kernel and initrd of a configuration as the ISO holds them: /boot/<store path>/<file>.
  bootFiles = c: [
    { source = "${c.boot.kernelPackages.kernel}/${c.system.boot.loader.kernelFile}";
      target = "/boot/${c.boot.kernelPackages.kernel}/${c.system.boot.loader.kernelFile}"; }
    { source = "${c.system.build.initialRamdisk}/${c.system.boot.loader.initrdFile}";
      target = "/boot/${c.system.build.initialRamdisk}/${c.system.boot.loader.initrdFile}"; }
  ];
  cfgFiles = c: lib.optionals c.isoImage.showConfiguration (bootFiles c)
    ++ lib.concatMap (s: cfgFiles s.configuration) (lib.attrValues (c.specialisation or { }));
in
{
  imports = [
    ../../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "isoImage" "isoName" ]; to = [ "image" "fileName" ]; })
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "isoImage" "isoBaseName" ]; to = [ "image" "baseName" ]; })
  ];

  options.isoImage = {
    compressImage = mkOption { type = types.bool; default = false; description = "Whether the ISO is compressed with zstd (the file gets .zst)."; };
    squashfsCompression = mkOption {
      type = types.nullOr types.str;
      default = "zstd -Xcompression-level 19";
      description = "mksquashfs compression arguments for the store; null for none.";
    };
    edition = mkOption { type = types.str; default = ""; description = "Edition name, in the volume ID and the file name."; };
    volumeID = mkOption {
      type = types.str;
      default = "nixos${edition}-${config.system.nixos.release}-${pkgs.stdenv.hostPlatform.uname.processor}";
      description = "The ISO's volume ID (at most 32 characters).";
    };
    contents = mkOption { example = [ ]; description = "Files ({ source; target; }) copied into the ISO 9660 tree."; };
    storeContents = mkOption { example = [ ]; description = "Store paths whose closure is put in the squashfs."; };
    includeSystemBuildDependencies = mkOption { type = types.bool; default = false; description = "Whether the system's build dependencies go into the store too."; };
    makeBiosBootable = mkOption { type = types.bool; default = pkgs.stdenv.buildPlatform.isx86 && pkgs.stdenv.hostPlatform.isx86; description = "Whether the ISO boots by BIOS (isolinux)."; };
    makeEfiBootable = mkOption { type = types.bool; default = false; description = "Whether the ISO boots by UEFI (GRUB in an El Torito EFI image)."; };
    makeUsbBootable = mkOption { type = types.bool; default = false; description = "Whether the ISO boots as a USB disk (isohybrid MBR; needs makeBiosBootable)."; };
    efiSplashImage = mkOption { default = null; description = "Background of the EFI GRUB menu (upstream: nixos-artwork's efi-background.png)."; };
    splashImage = mkOption { default = null; description = "Background of the isolinux menu (upstream: nixos-artwork's bios-boot.png)."; };
    grubTheme = mkOption { type = types.nullOr (types.either types.path types.package); default = null; description = "GRUB theme directory (upstream: pkgs.nixos-grub2-theme)."; };
    syslinuxTheme = mkOption {
      type = types.str;
      default = ''
        MENU TITLE ${config.system.nixos.distroName}
        MENU RESOLUTION 800 600
        MENU CLEAR
        MENU ROWS 6
        MENU CMDLINEROW -4
        MENU TIMEOUTROW -3
        MENU TABMSGROW  -2
        MENU HELPMSGROW -1
        MENU HELPMSGENDROW -1
        MENU MARGIN 0
      '';
      description = "The isolinux menu's theme lines.";
    };
    prependToMenuLabel = mkOption { type = types.str; default = ""; description = "Text before the menu entries' names."; };
    appendToMenuLabel = mkOption { type = types.str; default = " Installer"; description = "Text after the menu entries' names."; };
    configurationName = mkOption { type = types.nullOr types.str; default = null; description = "Name appended to the main menu entry."; };
    showConfiguration = mkOption { type = types.bool; default = true; description = "Whether the main configuration has a menu entry (else only its specialisations)."; };
    forceTextMode = mkOption { type = types.bool; default = false; description = "Whether GRUB starts in text mode."; };
  };

  config = {
    assertions = [
      {
        assertion = lib.stringLength cfg.volumeID <= 32;
        message = let n = lib.stringLength cfg.volumeID; in
          "isoImage.volumeID ${cfg.volumeID} is ${toString n} characters. That is ${toString (n - 32)} characters longer than the limit of 32.";
      }
      {
        assertion = !cfg.makeBiosBootable || pkgs.stdenv.hostPlatform.isx86;
        message = "BIOS boot is only supported on x86-based architectures.";
      }
    ];

    boot.loader.grub.enable = false;
    boot.loader.timeout = 10;
    boot.kernelParams = [ "root=LABEL=${cfg.volumeID}" "boot.shell_on_fail" ];

    fileSystems = lib.mkImageMediaOverride {
      "/" = { fsType = "tmpfs"; options = [ "mode=0755" ]; };
      "/iso" = { device = "/dev/root"; neededForBoot = true; noCheck = true; };
      "/nix/.ro-store" = {
        fsType = "squashfs";
        device = "/iso/nix-store.squashfs";
        options = [ "loop" ] ++ lib.optional (lib.versionAtLeast config.boot.kernelPackages.kernel.version "6.2") "threads=multi";
        neededForBoot = true;
      };
      "/nix/.rw-store" = { fsType = "tmpfs"; options = [ "mode=0755" ]; neededForBoot = true; };
      "/nix/store" = {
        fsType = "overlay";
        device = "overlay";
        options = [ "lowerdir=/nix/.ro-store" "upperdir=/nix/.rw-store/store" "workdir=/nix/.rw-store/work" ];
        depends = [ "/nix/.ro-store" "/nix/.rw-store/store" "/nix/.rw-store/work" ];
      };
    };

    boot.initrd.availableKernelModules = [ "squashfs" "iso9660" "uas" "overlay" ];
    boot.initrd.kernelModules = [ "loop" "overlay" ];

    environment.systemPackages = [ pkgs.grub2 ] ++ lib.optional cfg.makeBiosBootable pkgs.syslinux;
    system.extraDependencies = [ pkgs.grub2_efi ];

    isoImage.storeContents = [ config.system.build.toplevel ]
      ++ lib.optional cfg.includeSystemBuildDependencies config.system.build.toplevel.drvPath;

    isoImage.contents = [
      { source = pkgs.writeText "version" config.system.nixos.label; target = "/version.txt"; }
    ] ++ lib.unique (cfgFiles config)
    ++ lib.optionals cfg.makeBiosBootable ([
      { source = "${pkgs.syslinux}/share/syslinux"; target = "/isolinux"; }
    ] ++ lib.optional (cfg.splashImage != null) { source = cfg.splashImage; target = "/isolinux/background.png"; }
      ++ lib.optional config.boot.loader.grub.memtest86.enable { source = "${pkgs.memtest86plus}/memtest.bin"; target = "/boot/memtest.bin"; })
    ++ lib.optionals cfg.makeEfiBootable (
      [ { source = pkgs.writeTextDir "grub/loopback.cfg" "source /EFI/BOOT/grub.cfg"; target = "/boot/grub"; } ]
      ++ lib.optional (cfg.efiSplashImage != null) { source = cfg.efiSplashImage; target = "/EFI/BOOT/efi-background.png"; }
      ++ lib.optional (cfg.grubTheme != null) { source = cfg.grubTheme; target = "/EFI/BOOT/grub-theme"; });

    image.extension = if cfg.compressImage then "iso.zst" else "iso";
    image.filePath = "iso/${config.image.fileName}";
    image.baseName = "nixos${edition}-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
  };
}
