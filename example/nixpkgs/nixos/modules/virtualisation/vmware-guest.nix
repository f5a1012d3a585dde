# Imitates the enable option of nixos/modules/virtualisation/vmware-guest.nix (accepted; no VMware tools in the example system).
{ lib, ... }:
{
  options.virtualisation.vmware.guest.enable = lib.mkEnableOption "VMware Guest Support";
}
