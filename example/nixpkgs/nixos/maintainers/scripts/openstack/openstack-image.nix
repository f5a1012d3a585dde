# Imitates nixos/maintainers/scripts/openstack/openstack-image.nix (NixOS
# 25.05), the OpenStack image module (the non-ZFS one). It declares no
# options of its own: it imports the instance configuration
# (modules/virtualisation/openstack-config.nix) and the image.* options, tags
# the system `openstack' and names the image's extension "qcow2". Its image is
# make-disk-image's default layout (legacy MBR), sized "auto" with 1024 MiB
# free; it does not import disk-size-option.nix.
# Left out: the import of installer/cd-dvd/channel.nix and
# documentation.enable = true (the nixpkgs channel copied into the image; the
# stand-in has neither channels nor documentation), and
# system.build.openstackImage / system.build.image (make-disk-image);
# nixos-generate writes the image itself.
{ ... }:
{
  imports = [
    ../../../modules/virtualisation/openstack-config.nix
    ../../../modules/image/file-options.nix
  ];

  image.extension = "qcow2";
  system.nixos.tags = [ "openstack" ];
}
