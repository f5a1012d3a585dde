# Imitates nixos/modules/system/boot/stage-1.nix, much smaller: the initrd is a static busybox, the initrd kernel modules and ./stage-1-init.sh.
{ config, lib, pkgs, ... }:
let
  labelOf = fs: fallback:
    let m = if (fs.device or null) != null then builtins.match "/dev/disk/by-label/(.+)" fs.device else null;
    in if m != null then builtins.head m else if (fs.label or null) != null then fs.label else fallback;
  rootFs = config.fileSystems."/" or { };
  espFs = config.fileSystems.${config.boot.loader.efi.efiSysMountPoint} or { };
  # What the example's stage 1 needs to know (NixOS's stage 1 is generated from fileSystems too).
  rootLabel = labelOf rootFs "nixos";
  rootFsType = let t = rootFs.fsType or "ext4"; in if t == "auto" then "ext4" else t;
  espLabel = labelOf espFs "ESP";
  # Seconds to wait for the root device, and for Enter (a shell) before powering off after an error.
  timeout = 30;
in
{
  config.system.build.bootStage1 = ./stage-1-init.sh;
  config.system.build.initialRamdisk = pkgs.makeInitrd {
    name = "initrd-linux-${config.boot.kernelPackages.kernel.version}";
    kernel = config.boot.kernelPackages.kernel;
    modules = config.boot.initrd.availableKernelModules ++ config.boot.initrd.kernelModules;
    init = ./stage-1-init.sh;
    config = ''
      rootLabel=${lib.escapeShellArg rootLabel}
      rootFsType=${lib.escapeShellArg rootFsType}
      espLabel=${lib.escapeShellArg espLabel}
      timeout=${toString timeout}
    '';
  };
}
