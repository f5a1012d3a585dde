{ lib, pkgs, ... }:
{
  options.systemd.package = lib.mkOption {
    type = lib.types.package;
    default = pkgs.systemd;
    description = "The systemd package (in the stand-in: the systemd-boot EFI binaries only).";
  };
}
