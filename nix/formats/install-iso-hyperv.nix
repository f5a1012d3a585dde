# install-iso-hyperv: install-iso for Hyper-V, as nixos-generators' formats make it: the
# Hyper-V guest support on, and wpa_supplicant not started after all (mkOverride 40
# beats install-iso's mkForce).
{ lib, ... }:
{
  imports = [ ./install-iso.nix ];

  systemd.services.wpa_supplicant.wantedBy = lib.mkOverride 40 [ ];
  virtualisation.hypervGuest.enable = true;

  nixos-generate.format = "install-iso-hyperv";
}
