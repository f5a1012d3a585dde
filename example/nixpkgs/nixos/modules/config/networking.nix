# Imitates the networking.hostName, hostId and useDHCP options of
# nixos/modules/tasks/network-interfaces.nix and networking.wireless.enable of
# nixos/modules/services/networking/wpa_supplicant.nix (accepted; the example
# system configures no network).
{ lib, ... }:
{
  options.networking = {
    hostName = lib.mkOption {
      type = lib.types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
      default = "nixos";
      description = "The machine's host name (also part of the toplevel's store path name).";
    };
    hostId = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "[0-9a-f]{8}");
      default = null;
      description = "The 32-bit host ID (ZFS wants one).";
    };
    wireless.enable = lib.mkEnableOption "wpa_supplicant";
    useDHCP = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Whether to use DHCP on every interface without a static address.";
    };
  };
}
