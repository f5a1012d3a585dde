# The initrd: a static busybox, the initrd kernel modules and ./stage-1-init.sh.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.boot.initrd.exampleStage1;
  labelOf = fs: fallback:
    let m = if (fs.device or null) != null then builtins.match "/dev/disk/by-label/(.+)" fs.device else null;
    in if m != null then builtins.head m else if (fs.label or null) != null then fs.label else fallback;
  rootFs = config.fileSystems."/" or { };
  espFs = config.fileSystems.${config.boot.loader.efi.efiSysMountPoint} or { };
in
{
  options.boot.initrd.exampleStage1 = {
    rootLabel = mkOption {
      type = types.str;
      default = labelOf rootFs "nixos";
      description = "Label of the root filesystem (from fileSystems.\"/\" when it is by-label, else nixos).";
    };
    rootFsType = mkOption {
      type = types.str;
      default = let t = rootFs.fsType or "ext4"; in if t == "auto" then "ext4" else t;
      description = "Type of the root filesystem, mounted read-write.";
    };
    espLabel = mkOption {
      type = types.str;
      default = labelOf espFs "ESP";
      description = "Label of the EFI system partition, mounted on <root>/boot when present.";
    };
    timeout = mkOption {
      type = types.int;
      default = 30;
      description = "Seconds to wait for the root device, and to wait for Enter (shell) before powering off after an error.";
    };
  };

  config.system.build.bootStage1 = ./stage-1-init.sh;
  config.system.build.initialRamdisk = pkgs.makeInitrd {
    name = "initrd-linux-${config.boot.kernelPackages.kernel.version}";
    kernel = config.boot.kernelPackages.kernel;
    modules = config.boot.initrd.availableKernelModules ++ config.boot.initrd.kernelModules;
    init = ./stage-1-init.sh;
    config = ''
      rootLabel=${lib.escapeShellArg cfg.rootLabel}
      rootFsType=${lib.escapeShellArg cfg.rootFsType}
      espLabel=${lib.escapeShellArg cfg.espLabel}
      timeout=${toString cfg.timeout}
    '';
  };
}
