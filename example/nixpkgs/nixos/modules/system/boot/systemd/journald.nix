# Imitates the services.journald.console option of
# nixos/modules/system/boot/systemd/journald.nix (the stand-in has no journald).
{ lib, ... }:
{
  options.services.journald.console = lib.mkOption {
    type = lib.types.str;
    default = "";
    description = "If non-empty, write log messages to the specified TTY device.";
  };
}
