# Imitates nixos/modules/virtualisation/docker-image.nix (NixOS 25.05): the
# docker-container profile. Left out: the postBootCommands writing
# /run/systemd/container, networking.firewall.enable and
# services.openssh.startWhenNeeded (options the stand-in does not have).
{ ... }:
{
  imports = [ ../profiles/docker-container.nix ];
}
