# Shared by the live ISO format modules: reads what nixpkgs' iso-image.nix declares
# (isoImage.*, image.*) and exports system.build.imagePlan as a live plan (docs/image-plan.md).
# Settings the writers cannot honour stop the build with one line (common.nix planOrRefusal).
#
# Everything read from NixOS here is listed, per release, in docs/nixos-compat.md.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:
let
  cfg = config.nixos-generate;
  iso = config.isoImage;
  grub = config.boot.loader.grub;
  hostPlatform = pkgs.stdenv.hostPlatform;

  # isoImage.squashfsCompression: mksquashfs arguments ("zstd -Xcompression-level 19"), or null.
  compressionWords = lib.filter (w: w != "") (lib.splitString " " iso.squashfsCompression);
  algorithm = if iso.squashfsCompression == null then "none" else builtins.head compressionWords;
  compressionOptions = if iso.squashfsCompression == null then [ ] else builtins.tail compressionWords;
  # The one "-Xoption value" pair this project understands after the algorithm, or null.
  optionValue = name: if builtins.length compressionOptions == 2 && builtins.head compressionOptions == name then builtins.elemAt compressionOptions 1 else null;
  levelOption = optionValue "-Xcompression-level";
  level = if levelOption != null && builtins.match "[0-9]+" levelOption != null then lib.toInt levelOption else null;
  # nixos/lib/make-squashfs.nix: -b 1048576.
  blockSize = 1048576;
  # mksquashfs's -Xdict-size: a whole percentage of the block size, or bytes with an optional K or M.
  dictionaryOption = optionValue "-Xdict-size";
  percent = if dictionaryOption == null then null else builtins.match "([0-9]+)%" dictionaryOption;
  absolute = if dictionaryOption == null then null else builtins.match "([0-9]+)([kKmM]?)" dictionaryOption;
  unit = suffix: if suffix == "" then 1 else if lib.toLower suffix == "k" then 1024 else 1048576;
  percentOfBlock = if percent == null then 0 else blockSize * lib.toInt (builtins.head percent);
  dictionarySize =
    if percent != null && percentOfBlock / 100 * 100 == percentOfBlock then percentOfBlock / 100
    else if absolute != null then lib.toInt (builtins.head absolute) * unit (builtins.elemAt absolute 1)
    else null;
  compressionUnderstood = compressionOptions == [ ] || (if algorithm == "xz" then dictionarySize != null else level != null);

  # What this project writes itself, from the bootspec and the plan: iso-image.nix's
  # generated files, identified by where it puts them.
  generatedTargets = [ "/version.txt" "/isolinux/isolinux.cfg" "/EFI" "/boot/efi.img" "/boot/grub" ];
  contents = map (c: { source = "${c.source}"; inherit (c) target; })
    (lib.filter (c: !(builtins.elem c.target generatedTargets)) iso.contents);

  efiArch = if grub.forcei686 then "ia32" else hostPlatform.efiArch;

  refusals =
    lib.optional (config.virtualisation.diskSize != "auto") {
      option = "virtualisation.diskSize";
      value = config.virtualisation.diskSize;
      hint = "an ISO is as large as its contents; leave out --disk-size";
    }
    ++ lib.optional iso.compressImage {
      option = "isoImage.compressImage";
      value = true;
      hint = "nixos-generate writes the ISO uncompressed; compress it afterwards (zstd) or remove the setting";
    }
    ++ lib.optional (!(builtins.elem algorithm [ "zstd" "gzip" "xz" "lz4" "none" ]) || !compressionUnderstood) {
      option = "isoImage.squashfsCompression";
      value = iso.squashfsCompression;
      hint = "nixos-generate writes zstd and gzip squashfs with at most -Xcompression-level N, xz with at most -Xdict-size N% (no -Xbcj), lz4, or none (null)";
    }
    ++ lib.optional (algorithm == "lz4" && level != null) {
      option = "isoImage.squashfsCompression";
      value = iso.squashfsCompression;
      hint = "lz4 has no compression level; use \"lz4\"";
    }
    ++ lib.optional (iso.includeSystemBuildDependencies) {
      option = "isoImage.includeSystemBuildDependencies";
      value = true;
      hint = "nixos-generate puts the system's closure in the squashfs, not its build dependencies; remove the setting";
    }
    ++ lib.optional (iso.storeContents != [ config.system.build.toplevel ]) {
      option = "isoImage.storeContents";
      value = map toString iso.storeContents;
      hint = "nixos-generate puts the system's closure in the squashfs; add packages to environment.systemPackages or system.extraDependencies instead";
    };

  plan = {
    version = 1;
    kind = "live";
    inherit (cfg) format;
    toplevel = "${config.system.build.toplevel}";
    live = {
      volumeId = iso.volumeID;
      squashfs = { inherit algorithm level blockSize; } // lib.optionalAttrs (dictionarySize != null) { inherit dictionarySize; };
      inherit contents;
      bios = if iso.makeBiosBootable then { syslinux = "${pkgs.syslinux}"; } else null;
      efi = if iso.makeEfiBootable then { grub = "${pkgs.grub2_efi}"; inherit efiArch; } else null;
      # iso-image.nix makes the USB hybrid only together with BIOS booting.
      usb = iso.makeUsbBootable && iso.makeBiosBootable;
      menu = {
        inherit (config.boot.loader) timeout;
        inherit (config.system.nixos) distroName label;
        prepend = iso.prependToMenuLabel;
        append = iso.appendToMenuLabel;
        configurationName = iso.configurationName or null;
        showConfiguration = iso.showConfiguration or true;
        syslinuxTheme = iso.syslinuxTheme;
        inherit (iso) forceTextMode;
      };
    };
    output = {
      container = "iso";
      # iso-image.nix (25.05+) writes iso/<image.baseName>.iso whatever image.fileName says; 24.11: isoImage.isoName.
      fileName = if config ? image.baseName then "iso/${config.image.baseName}.iso" else "iso/${iso.isoName}";
      compression = "none";
    };
  };
in
{
  # --disk-size sets virtualisation.diskSize; declared here so that it can be refused.
  imports = [ "${toString modulesPath}/virtualisation/disk-size-option.nix" ];

  options.nixos-generate.format = lib.mkOption {
    type = lib.types.str;
    description = "Name of the image format (as in nixos-generate --list).";
  };

  config.system.build.imagePlan = (import ./common.nix).planOrRefusal pkgs cfg.format refusals plan;
}
