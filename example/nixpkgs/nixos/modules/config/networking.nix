{ lib, ... }:
{
  options.networking.hostName = lib.mkOption {
    type = lib.types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
    default = "nixos";
    description = "The machine's host name (also part of the toplevel's store path name).";
  };
}
