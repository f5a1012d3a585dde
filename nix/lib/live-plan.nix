# Shared by the live ISO format modules: reads what nixpkgs' iso-image.nix declares
# (isoImage.*, image.*) and exports system.build.imagePlan as a live plan (docs/image-plan.md).
# Settings the writers cannot honour stop the build with one line (common.nix planOrRefusal).
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
  iso = config.isoImage;
  grub = config.boot.loader.grub;
  hostPlatform = pkgs.stdenv.hostPlatform;

  # isoImage.squashfsCompression: mksquashfs arguments ("zstd -Xcompression-level 19"), or null.
  squashfs = import ./squashfs-compression.nix lib iso.squashfsCompression;

  # What this project writes itself, from the bootspec and the plan: iso-image.nix's
  # generated files, identified by where it puts them.
  generatedTargets = [ "/version.txt" "/isolinux/isolinux.cfg" "/EFI" "/boot/efi.img" "/boot/grub" ];
  contents = map (c: { source = "${c.source}"; inherit (c) target; })
    (lib.filter (c: !(builtins.elem c.target generatedTargets)) iso.contents);

  efiArch = if grub.forcei686 then "ia32" else hostPlatform.efiArch;
  # iso-image.nix takes GRUB's EFI modules from pkgsi686Linux with forcei686.
  grubPkgs = if grub.forcei686 then pkgs.pkgsi686Linux else pkgs;
  # iso-image.nix runs pkgs.buildPackages.grub2_efi's grub-mkimage on the system's
  # modules; for a system of another platform, the build machine's GRUB of the same nixpkgs.
  buildGrub =
    if cfg.buildPlatform == hostPlatform.system then null
    else ((import ./common.nix).buildPackages pkgs cfg.buildPlatform).grub2_efi;

  refusals =
    lib.optional (!(builtins.elem efiArch [ "x64" "ia32" "aa64" ])) {
      option = "nixpkgs.hostPlatform";
      value = hostPlatform.system;
      hint = "nixos-generate writes ISOs for x86_64-linux, i686-linux and aarch64-linux; for this system use an EFI disk format (raw-efi, qcow-efi) or an sd-card format";
    }
    ++ lib.optional (config.virtualisation.diskSize != "auto") {
      option = "virtualisation.diskSize";
      value = config.virtualisation.diskSize;
      hint = "an ISO is as large as its contents; leave out --disk-size";
    }
    ++ lib.optional (!squashfs.understood) {
      option = "isoImage.squashfsCompression";
      value = iso.squashfsCompression;
      inherit (squashfs) hint;
    };

  plan = {
    version = 1;
    kind = "live";
    inherit (cfg) format;
    toplevel = "${config.system.build.toplevel}";
    live = {
      volumeId = iso.volumeID;
      squashfs = squashfs.plan;
      inherit contents;
      bios = if iso.makeBiosBootable then { syslinux = "${pkgs.syslinux}"; } else null;
      efi =
        if iso.makeEfiBootable then
          {
            grub = "${grubPkgs.grub2_efi}";
            inherit efiArch;
            # iso-image.nix copies rEFInd next to GRUB for x64 and aa64, with a GRUB entry for it.
            refind = if builtins.elem efiArch [ "x64" "aa64" ] then "${pkgs.refind}/share/refind/refind_${efiArch}.efi" else null;
          }
          // lib.optionalAttrs (buildGrub != null) { mkimage = "${buildGrub}/bin/grub-mkimage"; }
        else
          null;
      # iso-image.nix makes the USB hybrid only together with BIOS booting.
      usb = iso.makeUsbBootable && iso.makeBiosBootable;
      # iso-image.nix's storeContents (the system; its .drv with includeSystemBuildDependencies):
      # make-squashfs puts their closure and its registration in the squashfs.
      storeContents = map (p: "${p}") iso.storeContents;
      menu = {
        inherit (config.boot.loader) timeout;
        inherit (config.system.nixos) distroName label;
        prepend = iso.prependToMenuLabel;
        append = iso.appendToMenuLabel;
        configurationName = iso.configurationName or null;
        showConfiguration = iso.showConfiguration or true;
        syslinuxTheme = iso.syslinuxTheme;
        inherit (iso) forceTextMode;
        # iso-image.nix's isolinux entry for /boot/memtest.bin (installation-cd-base.nix enables it).
        memtest =
          if config.boot.loader.grub.memtest86.enable && iso.makeBiosBootable then
            { inherit (config.boot.loader.grub.memtest86) params; }
          else
            null;
        # iso-image.nix names each specialisation's entries from its own configuration.
        specialisations = lib.mapAttrs (name: spec:
          let
            c = spec.configuration;
          in
          {
            inherit (c.system.nixos) distroName label;
            prepend = c.isoImage.prependToMenuLabel;
            append = c.isoImage.appendToMenuLabel;
            configurationName = c.isoImage.configurationName or null;
            showConfiguration = c.isoImage.showConfiguration or true;
          }) config.specialisation;
      };
    };
    output = {
      container = "iso";
      # iso-image.nix (25.05+) writes iso/<image.baseName>.iso whatever image.fileName says; 24.11: isoImage.isoName.
      # With compressImage make-iso9660-image runs zstd on it: <name>.zst.
      fileName = (if config ? image.baseName then "iso/${config.image.baseName}.iso" else "iso/${iso.isoName}")
        + lib.optionalString iso.compressImage ".zst";
      compression = if iso.compressImage then "zstd" else "none";
    };
  };
in
{
  imports = [ ./plan-options.nix ];

  config.system.build.imagePlan = (import ./common.nix).planOrRefusal pkgs cfg.format refusals plan;
}
