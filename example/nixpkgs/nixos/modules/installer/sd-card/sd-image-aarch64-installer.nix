# Imitates nixos/modules/installer/sd-card/sd-image-aarch64-installer.nix (NixOS 25.05):
# the aarch64 sd-card image with the installation device profile. Nothing is left out.
{
  imports = [
    ../../profiles/installation-device.nix
    ./sd-image-aarch64.nix
  ];
}
