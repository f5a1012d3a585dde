# Imitates the options of nixos/modules/virtualisation/qemu-guest-agent.nix (accepted; no agent runs in the example system).
{ lib, ... }:
{
  options.services.qemuGuest.enable = lib.mkOption { type = lib.types.bool; default = false; description = "Whether to enable the QEMU guest agent."; };
}
