# Imitates nixos/modules/installer/netboot/netboot-base.nix: netboot.nix with the
# base and installation-device profiles.
# Left out: hardware.enableAllHardware (the stand-in declares no hardware options).
{ ... }:
{
  imports = [
    ./netboot.nix
    ../../profiles/base.nix
    ../../profiles/installation-device.nix
  ];
}
