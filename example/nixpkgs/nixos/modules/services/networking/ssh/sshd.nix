# Imitates the options of nixos/modules/services/networking/ssh/sshd.nix that
# configurations commonly set. The example system runs no services: accepted,
# with NixOS's names and types, and otherwise ignored.
{ lib, ... }:
{
  options.services.openssh = {
    enable = lib.mkOption { type = lib.types.bool; default = false; description = "Whether to enable the OpenSSH secure shell daemon."; };
    settings = lib.mkOption {
      type = lib.types.submodule { freeformType = lib.types.attrsOf lib.types.anything; };
      default = { };
      description = "Configuration for sshd_config (freeform).";
    };
    openFirewall = lib.mkOption { type = lib.types.bool; default = true; description = "Whether to open the firewall for the daemon's ports."; };
  };
}
