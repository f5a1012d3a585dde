# Imitates the enable option of nixos/modules/virtualisation/virtualbox-guest.nix (accepted; no guest additions in the example system).
{ lib, ... }:
{
  options.virtualisation.virtualbox.guest.enable = lib.mkOption { type = lib.types.bool; default = false; description = "Whether to enable the VirtualBox guest additions."; };
}
