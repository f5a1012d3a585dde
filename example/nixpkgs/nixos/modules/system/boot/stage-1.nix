# Imitates nixos/modules/system/boot/stage-1.nix, much smaller: the initrd is a static busybox, the initrd kernel modules and ./stage-1-init.sh.
# Declares boot.initrd.compressor and compressorArgs as NixOS does (the netboot ramdisk
# is compressed with them), but the stand-in's own initrd is always busybox's gzip -9:
# busybox cannot write zstd. boot.initrd.postMountCommands run after the mounts.
# As in NixOS, stage 1 mounts the filesystems needed for boot (neededForBoot, or a mount point
# NixOS always mounts in stage 1) from fileSystems, in mount point order, under /mnt-root.
{ config, lib, pkgs, ... }:
let
  # nixos/lib/utils.nix pathsNeededForBoot.
  pathsNeededForBoot = [ "/" "/nix" "/nix/store" "/var" "/var/log" "/var/lib" "/var/lib/nixos" "/etc" "/usr" ];
  neededForBoot = mountPoint: fs: (fs.neededForBoot or false) || lib.elem mountPoint pathsNeededForBoot;

  deviceOf = fs:
    if (fs.device or null) != null then fs.device
    else if (fs.label or null) != null then "/dev/disk/by-label/${fs.label}"
    else if (fs.overlay or null) != null then "overlay"
    else "none";
  fsTypeOf = fs: if (fs.overlay or null) != null then "overlay" else fs.fsType or "auto";
  # fileSystems.<name>.overlay (nixos/modules/tasks/filesystems/overlayfs.nix) as mount options.
  overlayOptions = o: [
    "lowerdir=${lib.concatStringsSep ":" o.lowerdir}"
  ] ++ lib.optionals ((o.upperdir or null) != null) [ "upperdir=${o.upperdir}" "workdir=${o.workdir}" ];
  optionsOf = fs: lib.filter (o: o != "defaults") ((fs.options or [ ]) ++ lib.optionals ((fs.overlay or null) != null) (overlayOptions fs.overlay));

  bootFileSystems = lib.sort (a: b: a.mountPoint < b.mountPoint)
    (lib.mapAttrsToList (mountPoint: fs: fs // { inherit mountPoint; }) (lib.filterAttrs neededForBoot config.fileSystems));
  # One line each: mount point, device, type, options (tab-separated; "-" for none).
  fstab = lib.concatMapStrings (fs:
    let options = optionsOf fs; in
    "${fs.mountPoint}\t${deviceOf fs}\t${fsTypeOf fs}\t${if options == [ ] then "-" else lib.concatStringsSep "," options}\n") bootFileSystems;

  labelOf = fs: fallback:
    let m = if (fs.device or null) != null then builtins.match "/dev/disk/by-label/(.+)" fs.device else null;
    in if m != null then builtins.head m else if (fs.label or null) != null then fs.label else fallback;
  espFs = config.fileSystems.${config.boot.loader.efi.efiSysMountPoint} or { };
  # The example's stage 1 also mounts the ESP (NixOS mounts it in stage 2, which the example does not have).
  espLabel = labelOf espFs "ESP";
  # Seconds to wait for a device, and for Enter (a shell) before powering off after an error.
  timeout = 30;
in
{
  options.boot.initrd = {
    enable = lib.mkOption {
      type = lib.types.bool;
      default = !config.boot.isContainer;
      description = "Whether to enable the NixOS initial RAM disk (off in containers, which have no stage 1).";
    };
    compressor = lib.mkOption {
      type = lib.types.either lib.types.str (lib.types.functionTo lib.types.str);
      default = if lib.versionAtLeast config.boot.kernelPackages.kernel.version "5.9" then "zstd" else "gzip";
      description = "The program that compresses the initrd (a name, or a function of pkgs giving a path).";
    };
    compressorArgs = lib.mkOption {
      type = lib.types.nullOr (lib.types.listOf lib.types.str);
      default = null;
      description = "Arguments of the compressor; null: its defaults (zstd -10, gzip -9n).";
    };
    postMountCommands = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "Shell commands run in stage 1 after the filesystems are mounted.";
    };
  };

  # As NixOS: a system with a stage 1 must say what its root filesystem is.
  config.assertions = lib.mkIf config.boot.initrd.enable [ {
    assertion = config.fileSystems ? "/";
    message = "The `fileSystems' option does not specify your root file system.";
  } ];

  config.system.build.bootStage1 = ./stage-1-init.sh;
  config.system.build.initialRamdisk = pkgs.makeInitrd {
    name = "initrd-linux-${config.boot.kernelPackages.kernel.version}";
    kernel = config.boot.kernelPackages.kernel;
    modules = config.boot.initrd.availableKernelModules ++ config.boot.initrd.kernelModules;
    init = ./stage-1-init.sh;
    config = ''
      kernelModules=${lib.escapeShellArg (lib.concatStringsSep " " config.boot.initrd.kernelModules)}
      fileSystems=${lib.escapeShellArg fstab}
      espLabel=${lib.escapeShellArg espLabel}
      timeout=${toString timeout}
      postMountCommands=${lib.escapeShellArg config.boot.initrd.postMountCommands}
    '';
  };
}
