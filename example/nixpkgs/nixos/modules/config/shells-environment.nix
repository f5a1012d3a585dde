# Imitates nixos/modules/config/shells-environment.nix: only environment.loginShellInit.
# The example system starts no login shell, so nothing reads it; formats set it (vm-nogui).
{ lib, ... }:
{
  options.environment.loginShellInit = lib.mkOption {
    type = lib.types.lines;
    default = "";
    description = "Shell script code called during login shell initialisation.";
  };
}
