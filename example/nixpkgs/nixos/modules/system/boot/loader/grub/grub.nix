{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.boot.loader.grub;
in
{
  options.boot.loader.grub = {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether GRUB is the boot loader (false by default when systemd-boot is enabled).";
    };
    device = mkOption {
      type = types.str;
      default = "";
      description = "The disk GRUB's BIOS boot code goes to, or \"nodev\" for none.";
    };
    devices = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "The disks GRUB is installed on (includes `device`).";
    };
    efiSupport = mkOption { type = types.bool; default = false; description = "Whether to install GRUB for EFI."; };
    efiInstallAsRemovable = mkOption { type = types.bool; default = false; description = "Whether to install to the removable media path (EFI/BOOT/BOOTX64.EFI)."; };
    package = mkOption { type = types.package; default = pkgs.grub2; description = "GRUB for BIOS (lib/grub/i386-pc)."; };
    efiPackage = mkOption { type = types.package; default = pkgs.grub2_efi; description = "GRUB for EFI (lib/grub/x86_64-efi)."; };
    extraConfig = mkOption { type = types.lines; default = ""; description = "Appended to grub.cfg."; };
    extraEntries = mkOption { type = types.lines; default = ""; description = "Extra menu entries."; };
    configurationLimit = mkOption { type = types.int; default = 100; description = "Maximum number of menu entries."; };
    fsIdentifier = mkOption { type = types.enum [ "uuid" "label" "provided" ]; default = "uuid"; description = "How grub.cfg finds filesystems."; };
  };

  config = lib.mkIf cfg.enable {
    boot.loader.grub.devices = lib.optional (cfg.device != "") cfg.device;
    assertions = [
      {
        assertion = !cfg.efiInstallAsRemovable || cfg.efiSupport;
        message = "If you wish to to use boot.loader.grub.efiInstallAsRemovable, then turn on boot.loader.grub.efiSupport";
      }
      {
        assertion = !cfg.efiInstallAsRemovable || !config.boot.loader.efi.canTouchEfiVariables;
        message = "If you wish to to use boot.loader.grub.efiInstallAsRemovable, then turn off boot.loader.efi.canTouchEfiVariables";
      }
    ];
  };
}
