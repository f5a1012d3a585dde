# Imitates the systemd.package option of nixos/modules/system/boot/systemd.nix (in the
# stand-in the package holds only systemd-boot's EFI binaries).
{ lib, pkgs, ... }:
{
  options.systemd.package = lib.mkOption {
    type = lib.types.package;
    default = pkgs.systemd;
    description = "The systemd package (in the stand-in: the systemd-boot EFI binaries only).";
  };
}
