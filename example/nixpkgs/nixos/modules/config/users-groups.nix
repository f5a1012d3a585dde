# Imitates options of nixos/modules/config/users-groups.nix (accepted; the
# example system has no activation, so no accounts are created).
{ lib, ... }:
{
  options.users = {
    users = lib.mkOption {
      type = lib.types.attrsOf (lib.types.submodule { freeformType = lib.types.attrsOf lib.types.anything; });
      default = { };
      description = "Additional user accounts (freeform in the stand-in: name, password, hashedPassword, isNormalUser, extraGroups, openssh.authorizedKeys.keys, ...).";
    };
    mutableUsers = lib.mkOption { type = lib.types.bool; default = true; description = "Whether users and groups may be changed outside the configuration."; };
  };
}
