# Imitates the swapDevices option of nixos/modules/config/swap.nix (accepted;
# the example system activates no swap).
{ lib, ... }:
{
  options.swapDevices = lib.mkOption {
    type = lib.types.listOf (lib.types.submodule { freeformType = lib.types.attrsOf lib.types.anything; });
    default = [ ];
    description = "Swap devices and files (freeform in the stand-in: device, size, label, ...).";
  };
}
