# Imitates nixos/modules/virtualisation/vagrant-virtualbox-image.nix (NixOS
# 25.05), the Vagrant box for VirtualBox: ./virtualbox-image.nix's OVA repacked
# as a version 1 box (metadata.json, a Vagrantfile, box.ovf, the disk, a new
# SHA-256 manifest; gzip'd tar). It declares no options.
# Set as upstream: VirtualBox params with audio and USB off (plain, over
# virtualbox-image's mkDefaults), the tag `vagrant' (with virtualbox-image's
# `virtualbox'), and image.extension "<image.baseName>.box" at priority 999.
# That priority is weaker than virtualbox-image's plain "ova", so in 25.05
# image.extension stays "ova" and image.fileName is "<image.baseName>.ova"
# (upstream names the box derivation, a file, image.fileName).
# Left out, because the stand-in has no such modules, options or services: the
# import of vagrant-guest.nix (sshd, the vagrant user with password
# `vagrant', its insecure-key installer service, passwordless sudo for wheel
# and the tools Vagrant runs), the vagrant user's vboxsf group, man pages and
# NixOS documentation off; and system.build.vagrantVirtualbox and
# system.build.image (priority 999, over virtualbox-image's mkDefault);
# nixos-generate writes the box itself.
{ config, lib, ... }:
{
  imports = [ ./virtualbox-image.nix ];

  virtualbox.params = {
    audio = "none";
    audioin = "off";
    audioout = "off";
    usb = "off";
    usbehci = "off";
  };

  image.extension = lib.mkOverride 999 "${config.image.baseName}.box";
  system.nixos.tags = [ "vagrant" ];
}
