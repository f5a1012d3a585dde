# Imitates nixos/modules/virtualisation/lxc-instance-common.nix (NixOS 25.05):
# the image metadata module. Left out: channel.nix, clone-config.nix,
# minimal.nix and the documentation, getty, logrotate, openssh and root
# password settings (options the stand-in does not have).
{ ... }:
{
  imports = [ ./lxc-image-metadata.nix ];
}
