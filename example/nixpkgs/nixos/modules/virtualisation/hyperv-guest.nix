# Imitates nixos/modules/virtualisation/hyperv-guest.nix: the Hyper-V guest's
# initrd modules (those the example's kernel has; NixOS loads hv_balloon too and
# offers hyperv_keyboard) and its kernel parameter elevator=noop; no guest
# services run.
{ config, lib, ... }:
{
  options.virtualisation.hypervGuest.enable = lib.mkEnableOption "Hyper-V Guest Support";
  config = lib.mkIf config.virtualisation.hypervGuest.enable {
    boot.initrd.availableKernelModules = [ "hv_storvsc" "hv_vmbus" "hv_netvsc" "hv_utils" ];
    boot.kernelParams = [ "elevator=noop" ];
  };
}
