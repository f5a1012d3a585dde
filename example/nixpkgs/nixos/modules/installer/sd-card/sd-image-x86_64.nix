# Imitates nixos/modules/installer/sd-card/sd-image-x86_64.nix (NixOS 25.05): an sd-card
# image for x86_64 booted by U-Boot's extlinux support (nixpkgs tests it with U-Boot for
# QEMU's PC), its firmware partition empty. Nothing is left out.
{ config, lib, ... }:
{
  imports = [
    ../../profiles/base.nix
    ./sd-image.nix
  ];

  boot.loader.grub.enable = false;
  boot.loader.generic-extlinux-compatible.enable = true;

  boot.consoleLogLevel = lib.mkDefault 7;

  sdImage = {
    populateFirmwareCommands = "";
    populateRootCommands = ''
      mkdir -p ./files/boot
      ${config.boot.loader.generic-extlinux-compatible.populateCmd} -c ${config.system.build.toplevel} -d ./files/boot
    '';
  };
}
