# Imitates the networking.hostName and networking.useDHCP options of
# nixos/modules/tasks/network-interfaces.nix (accepted; the example system
# configures no network).
{ lib, ... }:
{
  options.networking = {
    hostName = lib.mkOption {
      type = lib.types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
      default = "nixos";
      description = "The machine's host name (also part of the toplevel's store path name).";
    };
    useDHCP = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Whether to use DHCP on every interface without a static address.";
    };
  };
}
