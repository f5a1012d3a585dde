# The configuration nixos-generate builds when neither -c nor NIXOS_CONFIG is given:
# a minimal system you can log in to on the console or over SSH, as the
# nixos-generators default is. Change the password before exposing it.
{ config, lib, ... }:
{
  services.openssh.enable = true;
  services.openssh.settings.PermitRootLogin = lib.mkOverride 999 "yes";
  services.getty.autologinUser = lib.mkOverride 999 "root";
  users.users.root.password = "nixos";

  system.stateVersion = config.system.nixos.release;
}
