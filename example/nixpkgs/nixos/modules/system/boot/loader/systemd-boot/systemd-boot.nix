{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.boot.loader.systemd-boot;
in
{
  options.boot.loader.systemd-boot = {
    enable = mkOption { type = types.bool; default = false; description = "Whether systemd-boot is the boot loader."; };
    configurationLimit = mkOption { type = types.nullOr types.int; default = null; description = "Maximum number of entries."; };
    consoleMode = mkOption { type = types.str; default = "keep"; description = "The console mode of loader.conf."; };
    editor = mkOption { type = types.bool; default = true; description = "Whether the entries may be edited at boot."; };
  };

  config = lib.mkIf cfg.enable {
    boot.loader.grub.enable = lib.mkDefault false;
    assertions = [ {
      assertion = !config.boot.loader.grub.enable;
      message = "boot.loader.systemd-boot.enable and boot.loader.grub.enable cannot both be true.";
    } ];
  };
}
