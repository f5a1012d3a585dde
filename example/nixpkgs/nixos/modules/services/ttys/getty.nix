# Imitates options of nixos/modules/services/ttys/getty.nix (accepted; the example system starts no getty).
{ lib, ... }:
{
  options.services.getty = {
    autologinUser = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null; description = "Username of the account that is logged in automatically on the virtual consoles."; };
    helpLine = lib.mkOption { type = lib.types.lines; default = ""; description = "Text shown above the login prompt."; };
  };
}
