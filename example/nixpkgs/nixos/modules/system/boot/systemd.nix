# Imitates the systemd.package and systemd.services options of
# nixos/modules/system/boot/systemd.nix (in the stand-in the package holds only
# systemd-boot's EFI binaries, and services are accepted but never started: a unit's
# attributes are freeform except wantedBy, typed as NixOS types it).
{ lib, pkgs, ... }:
{
  options.systemd.package = lib.mkOption {
    type = lib.types.package;
    default = pkgs.systemd;
    description = "The systemd package (in the stand-in: the systemd-boot EFI binaries only).";
  };
  options.systemd.services = lib.mkOption {
    type = lib.types.attrsOf (lib.types.submodule {
      freeformType = lib.types.attrsOf lib.types.anything;
      options.wantedBy = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [ ];
        description = "Units that want this one (the targets it starts with).";
      };
    });
    default = { };
    description = "systemd service units (accepted; the example system starts none).";
  };
}
