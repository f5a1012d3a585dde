# Imitates nixos/modules/misc/assertions.nix: the assertions and warnings options
# (checked when system.build.toplevel is evaluated, as in NixOS).
{ lib, ... }:
{
  options = {
    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.anything;
      default = [ ];
      description = "Conditions ({ assertion; message; }) that must hold to build the system.";
    };
    warnings = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "Messages printed when the system is built.";
    };
  };
}
