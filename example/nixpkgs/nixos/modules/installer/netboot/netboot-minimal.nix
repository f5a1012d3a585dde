# Imitates nixos/modules/installer/netboot/netboot-minimal.nix: netboot-base.nix with
# the minimal profile, and no extra dependencies (system.extraDependencies emptied at
# mkOverride 70).
# Left out: documentation.man.enable, hardware.enableRedistributableFirmware and
# networking.networkmanager.enable (the stand-in declares none of them).
{ lib, ... }:
{
  imports = [
    ./netboot-base.nix
    ../../profiles/minimal.nix
  ];

  system.extraDependencies = lib.mkOverride 70 [ ];
}
