# iso: a live ISO, as nixos-generators' formats/iso.nix makes it: nixpkgs'
# installer/cd-dvd/iso-image.nix with EFI and USB booting on. nix/lib/live-plan.nix turns
# the isoImage.* settings into the plan; the writers build the squashfs and the ISO.
{ lib, modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/installer/cd-dvd/iso-image.nix"
    ../lib/live-plan.nix
  ];

  isoImage.makeEfiBootable = true;
  isoImage.makeUsbBootable = true;

  nixos-generate.format = "iso";
}
