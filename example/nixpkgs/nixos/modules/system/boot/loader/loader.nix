# Imitates nixos/modules/system/boot/loader/loader.nix and efi.nix: boot.loader.timeout,
# boot.loader.efi.* and system.boot.loader.{id,kernelFile,initrdFile}.
{ lib, pkgs, ... }:
let inherit (lib) mkOption types; in
{
  options.boot.loader = {
    timeout = mkOption {
      type = types.nullOr types.int;
      default = 5;
      description = "Seconds the boot menu waits (null: forever).";
    };
    efi.canTouchEfiVariables = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the installer may change the firmware's boot entries.";
    };
    efi.efiSysMountPoint = mkOption {
      type = types.str;
      default = "/boot";
      description = "Where the EFI system partition is mounted.";
    };
  };
  options.system.boot.loader = {
    kernelFile = mkOption { type = types.str; default = pkgs.stdenv.hostPlatform.linux-kernel.target; description = "Name of the kernel image in the kernel package (bzImage on x86, Image on aarch64)."; };
    id = mkOption { type = types.str; default = ""; internal = true; description = "Id string of the boot loader in use."; };
    initrdFile = mkOption { type = types.str; default = "initrd"; description = "Name of the initrd in the initrd package."; };
  };
}
